/// One tensor's inputs held in memory as float, for merging without files (tests, library users):
/// `MergeMethod.merge(_:into:)` runs them through the same piece pipeline as the engine.
public struct MergeInput {
    /// The tensor's name in the output (GGUF naming, e.g. `blk.3.attn_q.weight`).
    public var name: String
    /// Shape in ggml order: `shape[0]` is the row length (mergekit's last dimension).
    public var shape: [Int]
    /// The inputs in mergekit's order (the base included at `baseIndex` when the method uses one);
    /// they are read, never written.
    public var tensors: [UnsafeMutableBufferPointer<Float>]
    /// Per-input parameters, parallel to `tensors` (the base's entry holds defaults).
    public var modelParameters: [Parameters]
    /// Global parameters.
    public var parameters: Parameters
    public var baseIndex: Int?
    /// A seed for random methods, already mixed with the tensor's identity.
    public var seed: UInt64

    public init(name: String, shape: [Int], tensors: [UnsafeMutableBufferPointer<Float>],
                modelParameters: [Parameters], parameters: Parameters, baseIndex: Int?, seed: UInt64) {
        self.name = name
        self.shape = shape
        self.tensors = tensors
        self.modelParameters = modelParameters
        self.parameters = parameters
        self.baseIndex = baseIndex
        self.seed = seed
    }
}

extension MergeMethod {
    /// Merges `input` into `output` (as many elements as each input), cut into pieces of
    /// `rowsPerPiece` rows (1 by default, so that every statistic is gathered over many pieces).
    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>,
                      rowsPerPiece: Int = 1) throws(MergeError) {
        func invalid(_ reason: String) -> MergeError { .invalidInputs(method: name, tensor: input.name, reason: reason) }
        if input.tensors.isEmpty { throw invalid("no inputs") }
        if input.shape.isEmpty || input.shape.reduce(1, *) != output.count {
            throw invalid("shape \(input.shape) does not match \(output.count) output elements")
        }
        if let bad = input.tensors.firstIndex(where: { $0.count != output.count }) {
            throw invalid("input \(bad) has \(input.tensors[bad].count) elements, expected \(output.count)")
        }
        let driver = PieceDriver(rowsPerPiece: rowsPerPiece, piecesPerBatch: 4, threads: 1)
        for (shape, firstRow) in TensorUnits.of(name: input.name, shape: input.shape) {
            let unit = MergeUnit(name: input.name, shape: shape, inputCount: input.tensors.count,
                                 modelParameters: input.modelParameters, parameters: input.parameters,
                                 baseIndex: input.baseIndex, seed: input.seed)
            let rowLength = unit.rowLength
            var merge = try prepare(unit)
            try driver.run(&merge, unit: unit, firstRow: firstRow, load: { (rows, inputs) throws(MergeError) in
                let range = (firstRow + rows.lowerBound) * rowLength ..< (firstRow + rows.upperBound) * rowLength
                for (tensor, buffer) in zip(input.tensors, inputs) {
                    _ = buffer.update(fromContentsOf: tensor[range])
                }
            }, store: { (rows, _, merged, _) throws(MergeError) in
                let start = (firstRow + rows.lowerBound) * rowLength
                _ = UnsafeMutableBufferPointer(rebasing: output[start ..< start + merged.count]).update(fromContentsOf: merged)
            }, batchDone: { (_, _) throws(MergeError) in })
        }
    }
}
