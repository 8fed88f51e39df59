import GGUF

/// Drives one unit's merge over row pieces: the statistics passes the merge asks for, then the row
/// pass. The one loop every merge runs through, whether the rows come from GGUF files (the engine)
/// or from memory (`MergeMethod.merge(_:into:)`). `store` may be called more than once per piece,
/// for consecutive slices of its rows, in order.
///
/// Pieces have `rowsPerPiece` rows (the last one fewer) and are processed `piecesPerBatch` at a time
/// in parallel, in every pass, each worker in its own scratch: memory is `threads × (inputs + 2)`
/// pieces of floats, whatever the tensor's size, and one batch's partial statistics. Statistics are
/// folded in piece order, so results do not depend on the thread count or the batch size. A batch
/// ends when its last piece does, the other threads idle meanwhile; statistics batches were four
/// pieces a thread, and as large as the row pass's they took SLERP Q8_0 1B 0.80 → 0.76 s (native,
/// medians of ten alternated runs).
struct PieceDriver {
    var rowsPerPiece: Int
    var piecesPerBatch: Int
    var threads: Int
    /// The workers' buffers: pass one `Scratch` for every tensor of a run.
    var scratch = Scratch()

    /// Floats per input in a slice of a row-local merge's piece (at least one row): with the output
    /// and the spare, a slice's buffers fit a core's L2 cache.
    static let sliceElements = 8192

    /// Where a piece's rows go once merged: `rows` are its rows in the unit, `batchRows` the same
    /// counted from the start of the current batch; `merged` holds them, `spare` is scratch of the
    /// same size.
    typealias Store = (_ rows: Range<Int>, _ batchRows: Range<Int>, _ merged: UnsafeMutableBufferPointer<Float>,
                       _ spare: UnsafeMutableBufferPointer<Float>) throws(MergeError) -> Void

    /// Runs `merge` on `unit`: `load` fills a piece's input buffers with rows (of the unit) of every
    /// input, `store` takes each merged piece (both on worker threads, for disjoint rows), and
    /// `batchDone` is called in order after each batch of rows of every pass (`rowPass` for the last).
    /// `firstRow` is the unit's first row in its tensor (random draws are keyed by the element's index
    /// in the tensor). `stored`, when the inputs' rows are their stored bytes as they are (one type, no
    /// adapter, no new row order), gives those bytes, so that a statistics pass the merge can take from
    /// stored blocks (`statistics(stored:type:)`) decodes nothing.
    func run<M: UnitMerge>(_ merge: inout M, unit: MergeUnit, firstRow: Int = 0,
                           load: (_ rows: Range<Int>, _ inputs: [UnsafeMutableBufferPointer<Float>]) throws(MergeError) -> Void,
                           stored: ((_ rows: Range<Int>) -> (type: GGMLType, inputs: [UnsafeRawBufferPointer]))? = nil,
                           store: Store,
                           batchDone: (_ rows: Range<Int>, _ rowPass: Bool) throws(MergeError) -> Void) throws(MergeError) {
        let rows = unit.rowCount, rowLength = unit.rowLength
        let pieceRows = max(rowsPerPiece, 1)
        let batchRows = pieceRows * max(piecesPerBatch, 1)
        let pieceFloats = min(pieceRows, rows) * rowLength
        let workers = max(threads, 1)
        let slots = unit.inputCount + 2
        let scratch = self.scratch.floats(workers * slots * pieceFloats)
        /// Worker `worker`'s buffers for `rows`: the inputs, the output and a spare.
        func buffers(_ worker: Int, _ rows: Range<Int>) -> [UnsafeMutableBufferPointer<Float>] {
            let count = rows.count * rowLength
            return (0 ..< slots).map { slot in
                let start = (worker * slots + slot) * pieceFloats
                return UnsafeMutableBufferPointer(rebasing: scratch[start ..< start + count])
            }
        }
        func piece(_ inputs: [UnsafeMutableBufferPointer<Float>], _ rows: Range<Int>) -> RowPiece {
            RowPiece(inputs: inputs, rows: rows, rowLength: rowLength, firstElement: (firstRow + rows.lowerBound) * rowLength)
        }

        let partials = UnsafeMutableBufferPointer<M.Partial?>.allocate(capacity: max(piecesPerBatch, 1))
        partials.initialize(repeating: nil)
        defer {
            _ = partials.deinitialize()
            partials.deallocate()
        }
        while merge.needsPass {
            for start in stride(from: 0, to: rows, by: batchRows) {
                let batch = start ..< min(rows, start + batchRows)
                let current = merge
                try parallelChunks(count: batch.count, chunk: pieceRows, threads: workers) { (worker, local) throws(MergeError) in
                    let rows = (batch.lowerBound + local.lowerBound) ..< (batch.lowerBound + local.upperBound)
                    if let (type, raw) = stored?(rows), let partial = current.statistics(stored: raw, type: type) {
                        partials[local.lowerBound / pieceRows] = partial
                        return
                    }
                    let slots = buffers(worker, rows)
                    let inputs = Array(slots.prefix(unit.inputCount))
                    try load(rows, inputs)
                    partials[local.lowerBound / pieceRows] = current.statistics(piece(inputs, rows))
                }
                for index in 0 ..< (batch.count + pieceRows - 1) / pieceRows {
                    guard let partial = partials[index] else { continue }
                    merge.accumulate(partial)
                    partials[index] = nil
                }
                try batchDone(batch, false)
            }
            try merge.finishPass()
        }
        let fixed = merge
        // A row-local merge's piece runs as slices of a few rows, whose buffers stay in the core's own
        // cache from decoding to encoding; its output rows are the same whatever the slicing.
        let sliceRows = M.self is any RowLocalMerge.Type ? max(1, Self.sliceElements / max(rowLength, 1)) : pieceRows
        for start in stride(from: 0, to: rows, by: batchRows) {
            let batch = start ..< min(rows, start + batchRows)
            try parallelChunks(count: batch.count, chunk: pieceRows, threads: workers) { (worker, local) throws(MergeError) in
                for sliceStart in stride(from: local.lowerBound, to: local.upperBound, by: sliceRows) {
                    let local = sliceStart ..< min(local.upperBound, sliceStart + sliceRows)
                    let rows = (batch.lowerBound + local.lowerBound) ..< (batch.lowerBound + local.upperBound)
                    let slots = buffers(worker, rows)
                    let inputs = Array(slots.prefix(unit.inputCount))
                    try load(rows, inputs)
                    fixed.merge(piece(inputs, rows), into: slots[unit.inputCount])
                    try store(rows, local, slots[unit.inputCount], slots[unit.inputCount + 1])
                }
            }
            try batchDone(batch, true)
        }
    }
}

/// The units a tensor is merged as: the whole tensor (viewed as rows of `shape[0]`), or, for a 3-D
/// expert tensor (`ffn_gate_exps`, `ffn_up_exps`, `ffn_down_exps`: ggml shape
/// `[columns, rows, experts]`), each expert's 2-D slice, so that whole-tensor statistics (SLERP's
/// angle, TIES's top-k, …) are taken per expert.
enum TensorUnits {
    /// `(shape, firstRow)` of each unit: its 2-D (or 1-D) shape and its first row in the tensor.
    static func of(name: String, shape: [Int]) -> [(shape: [Int], firstRow: Int)] {
        if shape.count == 3, name.contains("_exps") {
            return (0 ..< shape[2]).map { expert in ([shape[0], shape[1]], expert * shape[1]) }
        }
        if shape.count <= 2 { return [(shape, 0)] }
        let rowLength = shape[0]
        return [([rowLength, shape.dropFirst().reduce(1, *)], 0)]
    }
}

/// Buffers kept from one tensor to the next. Memory allocated afresh for each tensor comes from the
/// system as new pages, each faulted in and cleared on first touch: 5 % of a SLERP merge's time
/// (`perf`), for pages that held the previous tensor's pieces a moment before, and half of `check`'s.
/// Large ones are in huge pages where the system offers them (`HugePages`).
final class Scratch {
    private var buffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var raw = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// At least `count` floats (contents undefined), valid until the next call.
    func floats(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        if buffer.count < count {
            buffer.deallocate()
            let bytes = HugePages.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: MemoryLayout<Float>.alignment)
            buffer = bytes.bindMemory(to: Float.self)
        }
        return UnsafeMutableBufferPointer(rebasing: buffer[..<count])
    }

    /// At least `count` bytes (contents undefined), valid until the next call.
    func bytes(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if raw.count < count {
            raw.deallocate()
            raw = HugePages.allocate(byteCount: count, alignment: 16)
        }
        return UnsafeMutableRawBufferPointer(rebasing: raw[..<count])
    }

    deinit {
        buffer.deallocate()
        raw.deallocate()
    }
}
