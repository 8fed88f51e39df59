import Foundation
import GGUF
import Quant
import Testing

/// The K-quant, IQ4 and ternary codecs against llama-quantize's own output (rows of
/// `tiny-pure-<TYPE>.gguf`, `Fixtures/kquants`; of `tiny-<TYPE>.gguf`, `Fixtures/iq`) and against
/// llama.cpp's quantizers on synthetic edge-case blocks; dequantization against gguf-py.
@Suite struct KQuantReferenceTests {
    static let types = KQuantFixtures.types + [.iq4_NL, .iq4_XS, .tq1_0, .tq2_0]

    /// The fixture set holding `type`'s cases.
    static func fixtures(_ type: GGMLType) -> KQuantFixtures {
        KQuantFixtures.types.contains(type) ? .shared : .iq
    }

    @Test("quantize(F32 row) is byte-identical to llama-quantize", arguments: types)
    func quantizeRowsMatchLlamaQuantize(type: GGMLType) throws {
        for c in try Self.fixtures(type).cases("rows", type) {
            let out = try quantize(type, Array(c.source))
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("dequantize(reference bytes) is bit-identical to gguf-py", arguments: types)
    func dequantizeRowsMatchGGUFPy(type: GGMLType) throws {
        for c in try Self.fixtures(type).cases("rows", type) {
            let out = try dequantize(type, Array(c.bytes), count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("edge-case blocks quantize like llama.cpp's quantize_row_*_ref", arguments: types)
    func quantizeEdgeCasesMatchLlamaCpp(type: GGMLType) throws {
        for c in try Self.fixtures(type).cases("edge", type) {
            let out = try quantize(type, Array(c.source))
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("edge-case blocks dequantize like gguf-py", arguments: types)
    func dequantizeEdgeCasesMatchGGUFPy(type: GGMLType) throws {
        for c in try Self.fixtures(type).cases("edge", type) {
            let out = try dequantize(type, Array(c.bytes), count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("many rows in one call give the same bytes as row by row", arguments: types)
    func wholeBufferMatchesRows(type: GGMLType) throws {
        let cases = try Self.fixtures(type).cases("rows", type)
        #expect(cases.count >= 10)
        let all = try quantize(type, cases.flatMap { Array($0.source) })
        #expect(all == cases.flatMap { Array($0.bytes) })
        let floats = try dequantize(type, all, count: cases.reduce(0) { $0 + $1.source.count })
        #expect(firstBitDifference(floats, cases.flatMap { Array($0.expected) }) == nil)
    }

    @Test("the registry knows every type both ways", arguments: types)
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

func quantize(_ type: GGMLType, _ source: [Float]) throws -> [UInt8] {
    var out = [UInt8](repeating: 0xA5, count: type.byteCount(elements: source.count)!)
    try source.withUnsafeBufferPointer { s in
        try out.withUnsafeMutableBytes { d in try Codecs.quantize(type, s, into: d) }
    }
    return out
}

func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    try bytes.withUnsafeBytes { s in
        try out.withUnsafeMutableBufferPointer { d in try Codecs.dequantize(type, s, into: d) }
    }
    return out
}
