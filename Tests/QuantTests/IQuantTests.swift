import Foundation
import GGUF
import Quant
import Testing

/// IQ4_NL, IQ4_XS, TQ1_0 and TQ2_0 against llama-quantize's own output (rows of `tiny-<TYPE>.gguf`)
/// and llama.cpp's quantizers on synthetic edge-case blocks (`Fixtures/iq`); dequantization against
/// gguf-py, which the fixture script checked against `dequantize_row_*`.
@Suite struct IQuantTests {
    static let types: [GGMLType] = [.iq4_NL, .iq4_XS, .tq1_0, .tq2_0]
    static var fixtures: KQuantFixtures { KQuantFixtures.iq }

    @Test("quantize(F32 row) is byte-identical to llama-quantize", arguments: types)
    func quantizeRowsMatchLlamaQuantize(type: GGMLType) throws {
        let cases = try Self.fixtures.cases("rows", type)
        #expect(cases.count >= 10)
        for c in cases {
            let out = try quantize(type, Array(c.source))
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("dequantize(reference bytes) is bit-identical to gguf-py", arguments: types)
    func dequantizeRowsMatchGGUFPy(type: GGMLType) throws {
        for c in try Self.fixtures.cases("rows", type) {
            let out = try dequantize(type, Array(c.bytes), count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("edge-case blocks quantize like llama.cpp", arguments: types)
    func quantizeEdgeCasesMatchLlamaCpp(type: GGMLType) throws {
        for c in try Self.fixtures.cases("edge", type) {
            let out = try quantize(type, Array(c.source))
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("edge-case blocks dequantize like gguf-py", arguments: types)
    func dequantizeEdgeCasesMatchGGUFPy(type: GGMLType) throws {
        for c in try Self.fixtures.cases("edge", type) {
            let out = try dequantize(type, Array(c.bytes), count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("many rows in one call give the same bytes as row by row", arguments: types)
    func wholeBufferMatchesRows(type: GGMLType) throws {
        let cases = try Self.fixtures.cases("rows", type)
        let all = try quantize(type, cases.flatMap { Array($0.source) })
        let bytes = cases.flatMap { Array($0.bytes) }
        #expect(firstByteDifference(all, bytes) == nil, "\(firstByteDifference(all, bytes) ?? "")")
        let floats = try dequantize(type, all, count: cases.reduce(0) { $0 + $1.source.count })
        #expect(firstBitDifference(floats, cases.flatMap { Array($0.expected) }) == nil)
    }

    @Test("the registry knows the four types both ways", arguments: types)
    func registry(type: GGMLType) {
        #expect(Codecs.decoder(for: type)?.type == type)
        #expect(Codecs.encoder(for: type)?.type == type)
    }

    @Test("a byte count that does not fit the elements is an error, not a crash", arguments: types)
    func sizeMismatch(type: GGMLType) {
        let src = [Float](repeating: 0, count: 256)
        var dst = [UInt8](repeating: 0, count: type.byteCount(elements: 256)! - 1)
        #expect(throws: QuantError.sizeMismatch(type, elements: 256, bytes: dst.count)) {
            try src.withUnsafeBufferPointer { s in
                try dst.withUnsafeMutableBytes { d in try Codecs.quantize(type, s, into: d) }
            }
        }
        let bytes = [UInt8](repeating: 0, count: type.byteCount(elements: 256)!)
        var floats = [Float](repeating: 0, count: 255)
        #expect(throws: QuantError.self) {
            try bytes.withUnsafeBytes { s in
                try floats.withUnsafeMutableBufferPointer { d in try Codecs.dequantize(type, s, into: d) }
            }
        }
    }
}
