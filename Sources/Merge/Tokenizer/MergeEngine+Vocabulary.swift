import GGUF
import Quant

extension MergeEngine {
    /// Rows `rows` of `source` as stored (its input's LoRA delta applied).
    func decodeStored(_ source: TensorSource, rows: Range<Int>, plan: MergePlan,
                      into buffer: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let input = plan.inputs[source.input]
        try decode(PreparedSource(input: input, tensor: source.tensor, delta: try input.adapter?.delta(for: source.tensor.name)),
                   rows: rows, into: buffer)
    }

    /// Output rows `rows` of a vocabulary tensor laid out by `map` (the plan's `VocabularyRows` for
    /// this source): own rows decoded in runs, defaults summed in float32 in mergekit's order and
    /// divided by their count, padding rows the mean of the tensor's token rows.
    func decodePermuted(_ source: TensorSource, map: VocabularyRows, rows: Range<Int>, plan: MergePlan,
                        into buffer: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let width = source.tensor.shape[0]
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: width)
        defer { scratch.deallocate() }
        var padding: [Float]?
        var r = rows.lowerBound
        while r < rows.upperBound {
            let out = UnsafeMutableBufferPointer(rebasing: buffer[(r - rows.lowerBound) * width ..< (r - rows.lowerBound + 1) * width])
            switch map.rows[r] {
            case let .own(first):
                // A run of consecutive own rows decodes at once.
                var end = r + 1
                while end < rows.upperBound, map.rows[end] == .own(first + end - r) { end += 1 }
                try decodeStored(source, rows: first ..< first + end - r, plan: plan,
                                 into: UnsafeMutableBufferPointer(rebasing: buffer[(r - rows.lowerBound) * width ..< (end - rows.lowerBound) * width]))
                r = end
                continue
            case .zero:
                out.update(repeating: 0)
            case let .mean(references):
                out.update(repeating: 0)
                for reference in references {
                    try decodeStored(TensorSource(input: reference.input, tensor: reference.tensor), rows: reference.row ..< reference.row + 1,
                                     plan: plan, into: scratch)
                    for e in 0 ..< width { out[e] = out[e] + scratch[e] }
                }
                let count = Float(references.count)
                if references.count > 1 { for e in 0 ..< width { out[e] = out[e] / count } }
            case .padding:
                if padding == nil { padding = try meanRow(source, map: map, plan: plan) }
                _ = out.update(fromContentsOf: padding!)
            }
            r += 1
        }
    }

    /// The mean of the first `realCount` permuted rows (mergekit's `torch.mean(new_embed[:len(vocab)], 0)`),
    /// summed in `Double`.
    func meanRow(_ source: TensorSource, map: VocabularyRows, plan: MergePlan) throws(MergeError) -> [Float] {
        let width = source.tensor.shape[0]
        let rows = UnsafeMutableBufferPointer<Float>.allocate(capacity: width * 64)
        defer { rows.deallocate() }
        var sum = [Double](repeating: 0, count: width)
        for first in stride(from: 0, to: map.realCount, by: 64) {
            let chunk = first ..< min(map.realCount, first + 64)
            let buffer = UnsafeMutableBufferPointer(rebasing: rows[0 ..< chunk.count * width])
            try decodePermuted(source, map: map, rows: chunk, plan: plan, into: buffer)
            for i in 0 ..< buffer.count { sum[i % width] += Double(buffer[i]) }
        }
        return sum.map { Float($0 / Double(max(map.realCount, 1))) }
    }
}

extension MergeEngine {
    /// A copy of a vocabulary tensor in its own type, rows permuted: rows the input has are copied as
    /// stored bytes, and only the rows made anew (defaults, padding) are encoded. Returns false (and
    /// writes nothing) when the job is not such a copy.
    func writePermutedCopy(_ job: TensorJob, plan: MergePlan,
                           write: (UnsafeRawBufferPointer) throws(MergeError) -> Void) throws(MergeError) -> Bool {
        guard case let .copy(source) = job.operation, source.tensor.type == job.outputType,
              plan.inputs[source.input].adapter?.pairs[source.tensor.name] == nil,
              let map = plan.vocabularyRows(for: source), Codecs.canQuantize(job.outputType),
              let rowBytes = job.outputType.byteCount(elements: source.tensor.shape[0]) else { return false }
        let stored = plan.inputs[source.input].model.bytes(of: source.tensor)
        let width = source.tensor.shape[0]
        let chunkRows = 256
        let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkRows * rowBytes, alignment: 64)
        let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: width)
        defer {
            encoded.deallocate()
            floats.deallocate()
        }
        for first in stride(from: 0, to: map.rows.count, by: chunkRows) {
            let chunk = first ..< min(map.rows.count, first + chunkRows)
            for (k, row) in chunk.enumerated() {
                let destination = UnsafeMutableRawBufferPointer(rebasing: encoded[k * rowBytes ..< (k + 1) * rowBytes])
                if case let .own(n) = map.rows[row] {
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: stored[n * rowBytes ..< (n + 1) * rowBytes]))
                    continue
                }
                try decodePermuted(source, map: map, rows: row ..< row + 1, plan: plan, into: floats)
                do { try Codecs.quantize(job.outputType, UnsafeBufferPointer(floats), into: destination) } catch {
                    throw .file("output tensor \(job.name): \(error)")
                }
            }
            try write(UnsafeRawBufferPointer(rebasing: encoded[0 ..< chunk.count * rowBytes]))
        }
        return true
    }
}
