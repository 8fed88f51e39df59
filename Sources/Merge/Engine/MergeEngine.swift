import Foundation
import GGUF
import Quant

/// What the engine reports after each tensor.
public struct TensorReport: Sendable {
    public var index: Int
    public var name: String
    public var outputType: GGMLType
    /// Raw bytes of one input were copied: nothing was requantized.
    public var copied: Bool
    /// ‖requantized − merged‖ / ‖merged‖: the error the output type added (0 for F32 and copies).
    public var requantizationError: Double
    public var bytes: Int
}

/// Executes a `MergePlan` tensor by tensor, in two stages per tensor: the statistics passes its
/// method asks for (norms, dots, magnitude thresholds, …), then the row pass, which dequantizes,
/// merges, requantizes and appends each piece of rows. Every pass reads the inputs again, 64 rows at
/// a time, from the mapping; no tensor is ever whole in memory, in float or otherwise.
///
/// Memory: per worker thread, `inputs + 2` pieces of 64 rows in float; the encoded bytes of four
/// batches (`chunkElements` floats' worth of rows each: the oldest is written while the next are
/// computed, see `OutputQueue`); one batch's partial statistics; the statistics (at most a few values
/// per row).
/// Input pages are released after each batch of each pass.
public struct MergeEngine: Sendable {
    public var threads: Int
    public var seed: UInt64
    /// Float elements per batch of rows (default 4 Mi, at least two pieces per thread): the rows whose
    /// encoded bytes are written at once, and after which the inputs' pages are released. Results do
    /// not depend on it. Each batch ends in a wait for its last piece (see `PieceDriver`): 2 → 4 Mi took
    /// SLERP Q8_0 1B 0.79 → 0.72 s and linear F16 1.02 → 0.95 s (native, medians of eight alternated
    /// runs; 8 Mi: no better).
    public var chunkElements = 1 << 22

    /// Bytes of a tensor's inputs (all of them) up to which their pages stay mapped from one pass to
    /// the next: the resident memory a merge may add for speed.
    static let pagesKeptBetweenPasses = 256 << 20

    /// Rows per piece: the unit of work of a thread. Piece boundaries are fixed, so output bytes and
    /// statistics never depend on the thread count.
    static let rowsPerPiece = 64

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, seed: UInt64 = 0) {
        self.threads = max(1, threads)
        self.seed = seed
    }

    /// Runs `plan`, writing `path` atomically (no file is left behind on failure). `progress` is called
    /// after each tensor, in order.
    public func run(_ plan: MergePlan, to path: String, split: SplitPolicy? = nil,
                    progress: (TensorReport) -> Void = { _ in }) throws(MergeError) {
        let writer: GGUFWriter
        do {
            writer = try GGUFWriter(path: path, metadata: plan.metadata, tensors: plan.jobs.map(\.descriptor),
                                    split: split, protecting: plan.inputs.flatMap(\.paths))
        } catch { throw .file(error.description) }
        let output = OutputQueue(sink: { (bytes) throws(MergeError) in
            do { try writer.appendPart(bytes) } catch { throw .file(String(describing: error)) }
        }, batchSink: { (region, offset, count) throws(MergeError) in
            do { try writer.appendPart(region: region, offset: offset, count: count) } catch { throw .file(String(describing: error)) }
        })
        let scratch = Scratch()
        for (index, job) in plan.jobs.enumerated() {
            output.startTensor(fileOffset: writer.fileOffset(ofTensor: index))
            let report = try execute(job, index: index, plan: plan, output: output, scratch: scratch)
            for source in job.sources { plan.inputs[source.input].model.releasePages(of: source.tensor) }
            progress(report)
        }
        try output.drain()
        do { try writer.finish() } catch { throw .file(error.description) }
    }

    /// Produces one output tensor and hands its bytes to `output`, in order, one batch of rows at a time
    /// (or in one piece for a raw copy).
    func execute(_ job: TensorJob, index: Int, plan: MergePlan, output: OutputQueue, scratch: Scratch) throws(MergeError) -> TensorReport {
        var report = TensorReport(index: index, name: job.name, outputType: job.outputType, copied: false,
                                  requantizationError: 0, bytes: job.byteCount)
        if let raw = rawCopySource(job, plan: plan) {
            try output.writeNow(plan.inputs[raw.input].model.bytes(of: raw.tensor))
            report.copied = true
            return report
        }
        if try writePermutedCopy(job, plan: plan, write: output.writeNow) { return report }
        try checkDecodable(job.sources, plan: plan)
        var sources: [PreparedSource] = []
        for source in job.sources {
            let input = plan.inputs[source.input]
            var prepared = PreparedSource(input: input, tensor: source.tensor, delta: try input.adapter?.delta(for: source.tensor.name))
            if let rows = plan.vocabularyRows(for: source) { prepared.permutation = (rows, source, plan) }
            sources.append(prepared)
        }
        let (error, signal) = try stream(job, sources: sources, output: output, scratch: scratch)
        report.requantizationError = signal > 0 ? (error / signal).squareRoot() : (error > 0 ? .infinity : 0)
        return report
    }

    /// Every source's type can be decoded (checked before any work, so no tensor is half written).
    func checkDecodable(_ sources: [TensorSource], plan: MergePlan) throws(MergeError) {
        for source in sources where !Codecs.canDequantize(source.tensor.type) {
            throw .unsupportedType(file: plan.inputs[source.input].label, tensor: source.tensor.name, type: source.tensor.type.name)
        }
    }

    /// Runs each unit of the tensor (the tensor, or each expert) through its statistics passes and its
    /// row pass; the row pass encodes each piece and compares its bytes with the merged floats for the
    /// error (`Codecs.squaredError`: as it decodes them, for F16, BF16 and Q8_0), in buffers that stay
    /// in cache, and writes each batch's bytes in order. Returns the squared requantization error and
    /// squared norm.
    func stream(_ job: TensorJob, sources: [PreparedSource], output: OutputQueue,
                scratch: Scratch) throws(MergeError) -> (Double, Double) {
        let rowLength = max(job.shape[0], 1)
        let rows = job.elementCount / rowLength
        guard let rowBytes = job.outputType.byteCount(elements: rowLength), Codecs.canQuantize(job.outputType) else {
            throw .unsupportedType(file: "output", tensor: job.name, type: job.outputType.name)
        }
        let piece = Self.rowsPerPiece
        let batchRows = piece * max(chunkElements / rowLength / piece, 2 * threads, 1)
        let driver = PieceDriver(rowsPerPiece: piece, piecesPerBatch: batchRows / piece, threads: threads, scratch: scratch)
        try output.reserve(min(rows, batchRows) * rowBytes)
        let sums = UnsafeMutableBufferPointer<(Double, Double)>.allocate(capacity: batchRows / piece)
        sums.initialize(repeating: (0, 0))
        defer { sums.deallocate() }
        let measure = job.outputType != .f32
        // A tensor whose inputs' bytes are small keeps its pages from a statistics pass to the next
        // pass, which would otherwise fault every page in again; a large one is released batch by batch.
        let keepsPagesBetweenPasses = sources.reduce(0) { $0 + $1.tensor.byteCount } <= Self.pagesKeptBetweenPasses
        // Rows read as stored: one type, no adapter delta, no new row order.
        let storedType = sources.first.map(\.tensor.type).flatMap { type in
            sources.allSatisfy { $0.tensor.type == type && $0.delta == nil && $0.permutation == nil } ? type : nil
        }
        var error = 0.0, signal = 0.0
        if rows == 0 { try output.writeNow(UnsafeRawBufferPointer(start: nil, count: 0)) }
        for (shape, firstRow) in TensorUnits.of(name: job.name, shape: job.shape) {
            var merge: any UnitMerge
            let unit: MergeUnit
            switch job.operation {
            case .copy:
                unit = MergeUnit(name: job.name, shape: shape, inputCount: 1, modelParameters: [Parameters()],
                                 parameters: Parameters(), baseIndex: nil, seed: 0)
                merge = Copy()
            case let .merge(_, baseIndex, parameters, modelParameters, method):
                unit = MergeUnit(name: job.name, shape: shape, inputCount: sources.count, modelParameters: modelParameters,
                                 parameters: parameters, baseIndex: baseIndex, seed: Self.seed(seed, tensor: job.name))
                merge = try method.prepare(unit)
            }
            try driver.run(&merge, unit: unit, firstRow: firstRow, load: { (rows, inputs) throws(MergeError) in
                let rows = (firstRow + rows.lowerBound) ..< (firstRow + rows.upperBound)
                for (source, buffer) in zip(sources, inputs) { try decode(source, rows: rows, into: buffer) }
            }, stored: storedType.map { type in { rows in
                let rows = (firstRow + rows.lowerBound) ..< (firstRow + rows.upperBound)
                return (type, sources.map { UnsafeRawBufferPointer(rebasing: $0.input.model.bytes(of: $0.tensor)[$0.byteRange(rows: rows)]) })
            } }, store: { (rows, local, merged, back) throws(MergeError) in
                let dst = UnsafeMutableRawBufferPointer(rebasing: output.batch[local.lowerBound * rowBytes ..< local.upperBound * rowBytes])
                do {
                    try job.encode(UnsafeBufferPointer(merged), firstRow: firstRow + rows.lowerBound, into: dst)
                    if measure {
                        // Slices of a piece arrive in order on one thread: the piece's sums are deterministic.
                        let (e, s) = try Codecs.squaredError(job.outputType, UnsafeRawBufferPointer(dst), against: UnsafeBufferPointer(merged),
                                                             scratch: back)
                        sums[local.lowerBound / piece].0 += e
                        sums[local.lowerBound / piece].1 += s
                    }
                } catch {
                    throw .file("output tensor \(job.name): \(error)")
                }
            }, batchDone: { (rows, rowPass) throws(MergeError) in
                let tensorRows = (firstRow + rows.lowerBound) ..< (firstRow + rows.upperBound)
                if rowPass {
                    try output.advance(count: rows.count * rowBytes)
                    for i in 0 ..< (rows.count + piece - 1) / piece {
                        error += sums[i].0
                        signal += sums[i].1
                        sums[i] = (0, 0)
                    }
                }
                if rowPass || !keepsPagesBetweenPasses {
                    for source in sources { source.releasePages(rows: tensorRows) }
                }
            })
        }
        return (error, signal)
    }

    /// The source whose bytes are the output, when no arithmetic is needed: a copy job in the same type,
    /// or a merge whose inputs are all byte-identical and of the output type, by a method that returns
    /// equal inputs unchanged.
    func rawCopySource(_ job: TensorJob, plan: MergePlan) -> TensorSource? {
        let sources = job.sources
        guard let first = sources.first, sources.allSatisfy({ $0.tensor.type == job.outputType }),
              sources.allSatisfy({ plan.inputs[$0.input].adapter?.pairs[$0.tensor.name] == nil }),
              sources.allSatisfy({ plan.vocabularyRows(for: $0) == nil }) else { return nil }
        switch job.operation {
        case .copy:
            return first
        case let .merge(_, _, parameters, modelParameters, method):
            guard method.keepsAgreeingInputs(parameters: parameters, modelParameters: modelParameters) else { return nil }
        }
        let bytes = plan.inputs[first.input].model.bytes(of: first.tensor)
        for source in sources.dropFirst() {
            let other = plan.inputs[source.input].model.bytes(of: source.tensor)
            guard other.count == bytes.count, memcmp(other.baseAddress!, bytes.baseAddress!, bytes.count) == 0 else { return nil }
        }
        return first
    }

    /// Dequantizes rows `rows` of a source tensor into `buffer` on the calling thread, with its input's
    /// LoRA delta applied: the one place an input's rows are produced. Rows are output rows: a
    /// vocabulary tensor whose rows the plan permutes is laid out in the output vocabulary first.
    func decode(_ source: PreparedSource, rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        if let permutation = source.permutation {
            return try decodePermuted(permutation.source, map: permutation.rows, rows: rows, plan: permutation.plan, into: buffer)
        }
        let tensor = source.tensor
        let bytes = source.input.model.bytes(of: tensor)
        do {
            try Codecs.dequantize(tensor.type, UnsafeRawBufferPointer(rebasing: bytes[source.byteRange(rows: rows)]), into: buffer)
        } catch {
            throw .file("\(source.input.label): \(tensor.name): \(error)")
        }
        try source.delta?.add(to: buffer, rows: rows)
    }

    /// A per-tensor seed: the same seed and tensor name give the same stream on every run and thread
    /// count (FNV-1a of the name, mixed with the seed by SplitMix64's finalizer).
    static func seed(_ seed: UInt64, tensor name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return RandomStream.mix(seed &+ hash &+ 0x9e37_79b9_7f4a_7c15)
    }

    /// A copy job's "merge": the one input.
    struct Copy: RowLocalMerge {
        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            _ = output.update(fromContentsOf: piece.inputs[0])
        }
    }
}

/// A job's source, ready to decode: its input, and its LoRA delta with the factors decoded (once per
/// tensor, not per piece).
struct PreparedSource {
    var input: InputModel
    var tensor: TensorInfo
    var delta: LoRAAdapter.Delta?
    /// For a vocabulary tensor laid out anew (tokenizer unions): the layout of its output rows, the
    /// source it reads, and the plan its default rows read from.
    var permutation: (rows: VocabularyRows, source: TensorSource, plan: MergePlan)?

    /// The bytes of rows `rows`.
    func byteRange(rows: Range<Int>) -> Range<Int> {
        let rowBytes = tensor.type.byteCount(elements: tensor.shape[0]) ?? 0
        return rows.lowerBound * rowBytes ..< rows.upperBound * rowBytes
    }

    /// Drops the pages of rows `rows` once read (a permuted tensor's pages go when it is done).
    func releasePages(rows: Range<Int>) {
        guard permutation == nil else { return }
        input.model.releasePages(of: tensor, bytes: byteRange(rows: rows))
    }
}

extension TensorJob {
    /// Encodes whole rows of this job's output in its type, starting at row `firstRow` of the tensor,
    /// with its importance weights if any: the one place the engine quantizes. An expert tensor's
    /// weights hold one slice of `shape[0]` per expert (`shape[1]` rows each), as llama-quantize's
    /// `imatrix_for_row` hands them out.
    func encode(_ rows: UnsafeBufferPointer<Float>, firstRow: Int, into dst: UnsafeMutableRawBufferPointer) throws(QuantError) {
        let rowLength = shape[0]
        guard let importance, rowLength > 0 else {
            return try Codecs.quantize(outputType, rows, into: dst, rowLength: rowLength, importance: nil)
        }
        let count = rows.count / rowLength
        let rowBytes = count > 0 ? dst.count / count : 0
        let perExpert = importance.count > rowLength && shape.count > 1 ? shape[1] : Int.max
        try importance.withUnsafeBufferPointer { (weights) throws(QuantError) in
            var row = 0
            while row < count {
                let expert = perExpert == Int.max ? 0 : (firstRow + row) / perExpert
                let end = perExpert == Int.max ? count : min(count, (expert + 1) * perExpert - firstRow)
                try Codecs.quantize(outputType, UnsafeBufferPointer(rebasing: rows[row * rowLength ..< end * rowLength]),
                                    into: UnsafeMutableRawBufferPointer(rebasing: dst[row * rowBytes ..< end * rowBytes]),
                                    rowLength: rowLength,
                                    importance: UnsafeBufferPointer(rebasing: weights[expert * rowLength ..< (expert + 1) * rowLength]))
                row = end
            }
        }
    }
}
