import Foundation
import GGUF
import Quant
import Synchronization

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

/// Executes a `MergePlan` tensor by tensor: read the inputs from the mapping, dequantize to float,
/// merge, requantize, append to the output. Memory holds one tensor's inputs and output in float at a
/// time, never the model.
public struct MergeEngine: Sendable {
    public var threads: Int
    public var seed: UInt64
    /// Float elements per input buffer when a tensor streams through in row chunks (default 16 Mi
    /// floats, 64 MiB): bounds memory for copies and row-local methods whatever the model size.
    public var chunkElements = 1 << 24

    /// Rows per parallel chunk for the codecs: chunk boundaries are fixed, so output bytes never
    /// depend on the thread count.
    static let rowsPerChunk = 64

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
        let scratch = Scratch()
        for (index, job) in plan.jobs.enumerated() {
            let report = try execute(job, index: index, plan: plan, scratch: scratch) { (bytes) throws(MergeError) in
                do { try writer.appendPart(bytes) } catch { throw .file(String(describing: error)) }
            }
            for source in job.sources { plan.inputs[source.input].model.releasePages(of: source.tensor) }
            progress(report)
        }
        do { try writer.finish() } catch { throw .file(error.description) }
    }

    /// Produces one output tensor and hands its bytes to `write`, in one piece or, for copies and
    /// row-local methods on large tensors, in row chunks.
    func execute(_ job: TensorJob, index: Int, plan: MergePlan, scratch: Scratch = Scratch(),
                 write: (UnsafeRawBufferPointer) throws(MergeError) -> Void) throws(MergeError) -> TensorReport {
        var report = TensorReport(index: index, name: job.name, outputType: job.outputType, copied: false,
                                  requantizationError: 0, bytes: job.byteCount)
        if let raw = rawCopySource(job, plan: plan) {
            try write(plan.inputs[raw.input].model.bytes(of: raw.tensor))
            report.copied = true
            return report
        }
        if try writePermutedCopy(job, plan: plan, write: write) { return report }
        let rowLocal: Bool
        switch job.operation {
        case .copy: rowLocal = true
        case .merge: rowLocal = plan.method?.isRowLocal ?? false
        }
        try checkDecodable(job.sources, plan: plan)
        let (error, signal): (Double, Double)
        if rowLocal {
            (error, signal) = try streamRows(job, plan: plan, write: write)
        } else {
            (error, signal) = try mergeWhole(job, plan: plan, scratch: scratch, write: write)
        }
        report.requantizationError = signal > 0 ? (error / signal).squareRoot() : (error > 0 ? .infinity : 0)
        return report
    }

    /// A merge whose method needs the whole tensor: every input decoded into float (rows in
    /// parallel), merged once, encoded. Returns the squared requantization error and squared norm.
    func mergeWhole(_ job: TensorJob, plan: MergePlan, scratch: Scratch,
                    write: (UnsafeRawBufferPointer) throws(MergeError) -> Void) throws(MergeError) -> (Double, Double) {
        guard case let .merge(sources, baseIndex, parameters, modelParameters) = job.operation, let method = plan.method else {
            throw .other("internal: whole-tensor path without a merge method")
        }
        let count = job.elementCount, rowLength = max(job.shape[0], 1)
        let floats = scratch.floats(count * (sources.count + 1))
        let inputs = (0 ..< sources.count).map { UnsafeMutableBufferPointer(rebasing: floats[$0 * count ..< ($0 + 1) * count]) }
        let output = UnsafeMutableBufferPointer(rebasing: floats[sources.count * count ..< (sources.count + 1) * count])
        for (source, buffer) in zip(sources, inputs) {
            let failure = Mutex<MergeError?>(nil)
            parallelChunks(count: count / rowLength, chunk: Self.rowsPerChunk, threads: threads) { rows in
                do throws(MergeError) {
                    try decode(source, rows: rows, plan: plan,
                               into: UnsafeMutableBufferPointer(rebasing: buffer[rows.lowerBound * rowLength ..< rows.upperBound * rowLength]))
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
            if let failure = failure.withLock({ $0 }) { throw failure }
        }
        let input = MergeInput(name: job.name, shape: job.shape, tensors: inputs, modelParameters: modelParameters,
                               parameters: parameters, baseIndex: baseIndex, seed: Self.seed(seed, tensor: job.name),
                               threads: threads)
        try method.merge(input, into: output)
        return try encode(UnsafeBufferPointer(output), job: job, write: write)
    }

    /// Every source's type can be decoded (checked before any work, so no tensor is half written).
    func checkDecodable(_ sources: [TensorSource], plan: MergePlan) throws(MergeError) {
        for source in sources where !Codecs.canDequantize(source.tensor.type) {
            throw .unsupportedType(file: plan.inputs[source.input].label, tensor: source.tensor.name, type: source.tensor.type.name)
        }
    }

    /// Copies and row-local methods, fused: each worker takes 64 rows at a time, dequantizes them from
    /// every input, merges, encodes and decodes back (for the error), in buffers that stay in cache. No
    /// float copy of the tensor exists; the encoded bytes of up to `chunkElements` rows at a time are
    /// written in order. Returns the squared requantization error and squared norm.
    func streamRows(_ job: TensorJob, plan: MergePlan,
                    write: (UnsafeRawBufferPointer) throws(MergeError) -> Void) throws(MergeError) -> (Double, Double) {
        let rowLength = max(job.shape[0], 1)
        let rows = job.elementCount / rowLength
        let sources = job.sources
        guard let rowBytes = job.outputType.byteCount(elements: rowLength), Codecs.canQuantize(job.outputType) else {
            throw .unsupportedType(file: "output", tensor: job.name, type: job.outputType.name)
        }
        let piece = Self.rowsPerChunk
        let chunkRows = max(piece, chunkElements / rowLength / piece * piece)
        let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: min(rows, chunkRows) * rowBytes, alignment: 64)
        let sums = UnsafeMutableBufferPointer<(Double, Double)>.allocate(capacity: (min(rows, chunkRows) + piece - 1) / piece + 1)
        defer {
            encoded.deallocate()
            sums.deallocate()
        }
        let measure = job.outputType != .f32
        var error = 0.0, signal = 0.0
        if rows == 0 { try write(UnsafeRawBufferPointer(start: nil, count: 0)) }
        for first in stride(from: 0, to: rows, by: chunkRows) {
            let chunk = first ..< min(rows, first + chunkRows)
            let failure = Mutex<MergeError?>(nil)
            parallelChunks(count: chunk.count, chunk: piece, threads: threads) { local in
                let global = (chunk.lowerBound + local.lowerBound) ..< (chunk.lowerBound + local.upperBound)
                let count = local.count * rowLength
                let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * (sources.count + 2))
                defer { scratch.deallocate() }
                func slot(_ i: Int) -> UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(rebasing: scratch[i * count ..< (i + 1) * count]) }
                let inputs = sources.indices.map(slot)
                let output = slot(sources.count), back = slot(sources.count + 1)
                let dst = UnsafeMutableRawBufferPointer(rebasing: encoded[local.lowerBound * rowBytes ..< local.upperBound * rowBytes])
                do throws(MergeError) {
                    for (source, buffer) in zip(sources, inputs) {
                        try decode(source, rows: global, plan: plan, into: buffer)
                    }
                    switch job.operation {
                    case .copy:
                        _ = output.update(fromContentsOf: inputs[0])
                    case let .merge(_, baseIndex, parameters, modelParameters):
                        let input = MergeInput(name: job.name, shape: [rowLength, local.count], tensors: inputs,
                                               modelParameters: modelParameters, parameters: parameters,
                                               baseIndex: baseIndex, seed: Self.seed(seed, tensor: job.name))
                        try plan.method!.merge(input, into: output)
                    }
                    do {
                        try job.encode(UnsafeBufferPointer(output), firstRow: global.lowerBound, into: dst)
                        if measure { try Codecs.dequantize(job.outputType, UnsafeRawBufferPointer(dst), into: back) }
                    } catch {
                        throw .file("output tensor \(job.name): \(error)")
                    }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
                sums[local.lowerBound / piece] = measure ? Self.squaredError(UnsafeBufferPointer(back), UnsafeBufferPointer(output)) : (0, 0)
            }
            if let failure = failure.withLock({ $0 }) { throw failure }
            try write(UnsafeRawBufferPointer(rebasing: encoded[0 ..< chunk.count * rowBytes]))
            for i in 0 ..< (chunk.count + piece - 1) / piece {
                error += sums[i].0
                signal += sums[i].1
            }
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
        case let .merge(_, _, parameters, modelParameters):
            guard plan.method?.keepsAgreeingInputs(parameters: parameters, modelParameters: modelParameters) == true else { return nil }
        }
        let bytes = plan.inputs[first.input].model.bytes(of: first.tensor)
        for source in sources.dropFirst() {
            let other = plan.inputs[source.input].model.bytes(of: source.tensor)
            guard other.count == bytes.count, memcmp(other.baseAddress!, bytes.baseAddress!, bytes.count) == 0 else { return nil }
        }
        return first
    }

    /// Dequantizes rows `rows` of a source tensor into `buffer` on the calling thread, with its input's
    /// LoRA delta applied (callers parallelize over row ranges). Rows are output rows: a vocabulary
    /// tensor whose rows the plan permutes is laid out in the output vocabulary first.
    func decode(_ source: TensorSource, rows: Range<Int>, plan: MergePlan,
                into buffer: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        if let map = plan.vocabularyRows(for: source) {
            return try decodePermuted(source, map: map, rows: rows, plan: plan, into: buffer)
        }
        try decodeStored(source, rows: rows, plan: plan, into: buffer)
    }

    /// `decode` of the rows as stored.
    func decodeStored(_ source: TensorSource, rows: Range<Int>, plan: MergePlan,
                      into buffer: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let input = plan.inputs[source.input]
        let tensor = source.tensor
        let rowBytes = tensor.type.byteCount(elements: tensor.shape[0]) ?? 0
        let bytes = input.model.bytes(of: tensor)
        do {
            try Codecs.dequantize(tensor.type, UnsafeRawBufferPointer(rebasing: bytes[rows.lowerBound * rowBytes ..< rows.upperBound * rowBytes]),
                                  into: buffer)
        } catch {
            throw .file("\(input.label): \(tensor.name): \(error)")
        }
        try input.adapter?.addDelta(to: buffer, tensor: tensor.name, rows: rows)
    }

    /// Encodes merged rows in the output type and writes them; returns the squared error the encoding
    /// added and the squared norm of the rows.
    func encode(_ merged: UnsafeBufferPointer<Float>, job: TensorJob,
                write: (UnsafeRawBufferPointer) throws(MergeError) -> Void) throws(MergeError) -> (Double, Double) {
        if job.outputType == .f32 {
            try write(UnsafeRawBufferPointer(merged))
            return (0, 0)
        }
        let rowLength = job.shape[0]
        let rows = merged.count / max(rowLength, 1)
        guard let rowBytes = job.outputType.byteCount(elements: rowLength), Codecs.canQuantize(job.outputType) else {
            throw .unsupportedType(file: "output", tensor: job.name, type: job.outputType.name)
        }
        let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: rows * rowBytes, alignment: 16)
        defer { encoded.deallocate() }
        // Per chunk: encode, decode back, and sum the squared error and the squared signal.
        let chunkCount = (rows + Self.rowsPerChunk - 1) / Self.rowsPerChunk
        let sums = UnsafeMutableBufferPointer<(Double, Double)>.allocate(capacity: max(chunkCount, 1))
        defer { sums.deallocate() }
        let failure = Mutex<String?>(nil)
        parallelChunks(count: rows, chunk: Self.rowsPerChunk, threads: threads) { range in
            let src = UnsafeBufferPointer(rebasing: merged[range.lowerBound * rowLength ..< range.upperBound * rowLength])
            let dst = UnsafeMutableRawBufferPointer(rebasing: encoded[range.lowerBound * rowBytes ..< range.upperBound * rowBytes])
            let back = UnsafeMutableBufferPointer<Float>.allocate(capacity: src.count)
            defer { back.deallocate() }
            do {
                try job.encode(src, firstRow: range.lowerBound, into: dst)
                try Codecs.dequantize(job.outputType, UnsafeRawBufferPointer(dst), into: back)
            } catch {
                failure.withLock { $0 = "\(error)" }
                return
            }
            sums[range.lowerBound / Self.rowsPerChunk] = Self.squaredError(UnsafeBufferPointer(back), src)
        }
        if let error = failure.withLock({ $0 }) { throw .file("output tensor \(job.name): \(error)") }
        try write(UnsafeRawBufferPointer(encoded))
        return sums.prefix(chunkCount).reduce((0.0, 0.0)) { ($0.0 + $1.0, $0.1 + $1.1) }
    }

    /// `(Σ (decoded − merged)², Σ merged²)` over one piece (at most 64 rows): float sums in eight lanes
    /// so the loop vectorizes, which is precise enough for a report, added up in double across pieces.
    static func squaredError(_ decoded: UnsafeBufferPointer<Float>, _ merged: UnsafeBufferPointer<Float>) -> (Double, Double) {
        var error = SIMD8<Float>(), signal = SIMD8<Float>()
        let n = merged.count / 8 * 8
        var i = 0
        while i < n {
            var d = SIMD8<Float>(), m = SIMD8<Float>()
            for lane in 0 ..< 8 {
                d[lane] = decoded[i &+ lane] - merged[i &+ lane]
                m[lane] = merged[i &+ lane]
            }
            error += d * d
            signal += m * m
            i &+= 8
        }
        var e = Double(error.sum()), s = Double(signal.sum())
        while i < merged.count {
            let d = Double(decoded[i] - merged[i])
            e += d * d
            s += Double(merged[i]) * Double(merged[i])
            i += 1
        }
        return (e, s)
    }

    /// A per-tensor seed: the same seed and tensor name give the same stream on every run and thread
    /// count (FNV-1a of the name, mixed with the seed by SplitMix64's finalizer).
    static func seed(_ seed: UInt64, tensor name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var z = seed &+ hash &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
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

/// Float scratch for whole-tensor merges, kept across tensors and grown on demand: a fresh allocation
/// per tensor would page-fault (and zero) hundreds of megabytes again for every large tensor. The peak
/// is the same either way: the largest tensor's inputs and output.
final class Scratch {
    private var buffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    /// At least `count` floats (contents undefined), valid until the next call.
    func floats(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        if buffer.count < count {
            buffer.deallocate()
            buffer = .allocate(capacity: count)
        }
        return UnsafeMutableBufferPointer(rebasing: buffer[0 ..< count])
    }

    deinit { buffer.deallocate() }
}
