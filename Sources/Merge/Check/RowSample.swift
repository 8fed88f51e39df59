import GGUF
import Quant

/// The rows `check` reads of a tensor: all of them when the tensor is small, else evenly spaced rows
/// holding about `budget` elements. The choice depends only on the shape, so every model of a
/// comparison reads the same rows, and a run reads the same rows every time.
public struct RowSample: Sendable, Equatable {
    /// The sampled row indices, ascending.
    public var rows: [Int]
    /// The tensor's row count over the sampled row count: what a sum over the sample is multiplied
    /// by to stand for the whole tensor.
    public var weight: Double

    /// About 128 K elements (512 KiB decoded) a tensor: cosines to about ±0.003, seconds for a 70B.
    public static let defaultBudget = 1 << 17

    public init(rowCount: Int, rowLength: Int, budget: Int = RowSample.defaultBudget) {
        let count = min(rowCount, max(1, budget / max(rowLength, 1)))
        rows = (0..<count).map { i in (2 &* i &+ 1) &* rowCount / (2 &* count) }
        weight = count == 0 ? 0 : Double(rowCount) / Double(count)
    }

    /// The sampled rows of `tensor` in `model`, decoded, and the estimated rounding noise energy of
    /// those rows (``RoundingNoise``). The tensor's pages are released afterwards: the kernel maps
    /// whole runs of pages around each sampled row, which would otherwise stay resident through the
    /// merge that follows (2.6 GB of two 1.6 GB inputs, measured).
    public func read(_ tensor: TensorInfo, of model: GGUFModel) throws(MergeError) -> (values: [Float], noise: Double) {
        guard Codecs.canDequantize(tensor.type), RoundingNoise.canEstimate(tensor.type) else {
            throw .unsupportedType(file: model.path, tensor: tensor.name, type: tensor.type.name)
        }
        defer { model.releasePages(of: tensor) }
        let bytes = model.bytes(of: tensor)
        let rowBytes = tensor.rowByteCount, length = tensor.rowLength
        var values = [Float](repeating: 0, count: rows.count &* length)
        var noise = 0.0
        do {
            try values.withUnsafeMutableBufferPointer { out throws(QuantError) in
                for (k, row) in rows.enumerated() {
                    let source = UnsafeRawBufferPointer(rebasing: bytes[row &* rowBytes ..< (row &+ 1) &* rowBytes])
                    try Codecs.dequantize(tensor.type, source, into: UnsafeMutableBufferPointer(rebasing: out[k &* length ..< (k &+ 1) &* length]))
                    noise += RoundingNoise.energy(tensor.type, source) ?? 0
                }
            }
        } catch {
            throw .file("\(model.path): tensor \(tensor.name): \(error.description)")
        }
        return (values, noise)
    }
}
