import GGUF
import Quant
import Testing

/// The IQ1–IQ3, MXFP4, Q1_0 and Q2_0 codecs against llama.cpp: rows of `llama-quantize --imatrix`
/// outputs and synthetic edge-case blocks (`Fixtures/iq/lowbit`).
@Suite struct LowBitReferenceTests {
    static let types: [GGMLType] = [.iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq3_XXS, .iq3_S, .mxfp4, .q1_0, .q2_0]
    /// The types this version writes.
    static let quantized: [GGMLType] = [.iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq3_XXS, .iq3_S, .mxfp4, .q1_0, .q2_0]

    static func quantize(_ type: GGMLType, _ c: LowBitFixtures.Case) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: c.source.count / type.blockSize * type.typeSize)
        try c.source.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                if let importance = c.importance {
                    try importance.withUnsafeBufferPointer { w in
                        try Codecs.quantize(type, src, into: dst, rowLength: c.rowLength, importance: w)
                    }
                } else {
                    try Codecs.quantize(type, src, into: dst, rowLength: c.rowLength, importance: nil)
                }
            }
        }
        return out
    }

    @Test("dequantize(llama-quantize rows) is bit-identical to dequantize_row_*", arguments: types)
    func dequantizeRows(type: GGMLType) throws {
        for c in try LowBitFixtures.shared.rows(type) {
            let out = try dequantize(type, c.bytes, count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("dequantize(edge-case blocks) is bit-identical to dequantize_row_*", arguments: types)
    func dequantizeEdges(type: GGMLType) throws {
        for c in try LowBitFixtures.shared.edges(type) {
            let out = try dequantize(type, c.bytes, count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("quantize(F32 rows, importance) is byte-identical to llama-quantize --imatrix", arguments: quantized)
    func quantizeRows(type: GGMLType) throws {
        for c in try LowBitFixtures.shared.rows(type) {
            let out = try Self.quantize(type, c)
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("edge-case blocks quantize like llama.cpp's quantize_<type>", arguments: quantized)
    func quantizeEdges(type: GGMLType) throws {
        for c in try LowBitFixtures.shared.edges(type) {
            let out = try Self.quantize(type, c)
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("the types ggml cannot quantize without an importance matrix (ggml_quantize_requires_imatrix)")
    func requiresImportance() {
        let required = Set(Self.types.filter(Codecs.requiresImportance))
        #expect(required == [.iq2_XXS, .iq2_XS, .iq1_S])
    }
}
