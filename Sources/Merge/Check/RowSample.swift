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

    /// Elements `read(_:of:into:bytes:)` decodes: the sampled rows' elements.
    public func elementCount(rowLength: Int) -> Int { rows.count &* rowLength }

    /// Decodes the sampled rows of `tensor` in `model` into `values` (``elementCount(rowLength:)``
    /// floats), reading their bytes into `bytes` (as many as they take) first; returns the estimated
    /// rounding noise energy of those rows (``RoundingNoise``).
    ///
    /// The bytes are read with `pread` (`GGUFModel.copyBytes(of:ranges:into:)`), not through the
    /// mapping, where each scattered row would fault in a run of pages around it, to be released again
    /// afterwards; and the caller's buffers are reused from tensor to tensor, where fresh ones came from
    /// the system as new pages each time. `check` of two 1B F16 models: 0.07–0.10 s before both,
    /// 0.03–0.04 s after.
    public func read(_ tensor: TensorInfo, of model: GGUFModel, into values: UnsafeMutableBufferPointer<Float>,
                     bytes: UnsafeMutableRawBufferPointer) throws(MergeError) -> Double {
        guard Codecs.canDequantize(tensor.type), RoundingNoise.canEstimate(tensor.type) else {
            throw .unsupportedType(file: model.path, tensor: tensor.name, type: tensor.type.name)
        }
        let rowBytes = tensor.rowByteCount, length = tensor.rowLength
        precondition(values.count == rows.count &* length && bytes.count >= rows.count &* rowBytes)
        do {
            try model.copyBytes(of: tensor, ranges: rows.map { $0 &* rowBytes ..< ($0 &+ 1) &* rowBytes }, into: bytes)
        } catch {
            throw .file(error.description)
        }
        var noise = 0.0
        do {
            for k in rows.indices {
                let source = UnsafeRawBufferPointer(rebasing: bytes[k &* rowBytes ..< (k &+ 1) &* rowBytes])
                try Codecs.dequantize(tensor.type, source, into: UnsafeMutableBufferPointer(rebasing: values[k &* length ..< (k &+ 1) &* length]))
                noise += RoundingNoise.energy(tensor.type, source) ?? 0
            }
        } catch {
            throw .file("\(model.path): tensor \(tensor.name): \(error.description)")
        }
        return noise
    }
}
