import Foundation
import GGUF
import Quant
import Testing

/// The K-quant codecs against llama-quantize's own output (`tiny-pure-<TYPE>.gguf` rows) and
/// against llama.cpp's quantizer on synthetic edge-case blocks; dequantization against gguf-py.
@Suite struct KQuantReferenceTests {
    static let types = KQuantFixtures.types

    @Test("quantize(F32 row) is byte-identical to llama-quantize", arguments: types)
    func quantizeRowsMatchLlamaQuantize(type: GGMLType) throws {
        for c in try KQuantFixtures.shared.cases("rows", type) {
            let out = try quantize(type, Array(c.source))
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("dequantize(reference bytes) is bit-identical to gguf-py", arguments: types)
    func dequantizeRowsMatchGGUFPy(type: GGMLType) throws {
        for c in try KQuantFixtures.shared.cases("rows", type) {
            let out = try dequantize(type, Array(c.bytes), count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("edge-case blocks quantize like llama.cpp's quantize_row_*_ref", arguments: types)
    func quantizeEdgeCasesMatchLlamaCpp(type: GGMLType) throws {
        for c in try KQuantFixtures.shared.cases("edge", type) {
            let out = try quantize(type, Array(c.source))
            #expect(firstByteDifference(out, c.bytes) == nil, "\(c): \(firstByteDifference(out, c.bytes) ?? "")")
        }
    }

    @Test("edge-case blocks dequantize like gguf-py", arguments: types)
    func dequantizeEdgeCasesMatchGGUFPy(type: GGMLType) throws {
        for c in try KQuantFixtures.shared.cases("edge", type) {
            let out = try dequantize(type, Array(c.bytes), count: c.source.count)
            #expect(firstBitDifference(out, c.expected) == nil, "\(c): \(firstBitDifference(out, c.expected) ?? "")")
        }
    }

    @Test("many rows in one call give the same bytes as row by row", arguments: types)
    func wholeBufferMatchesRows(type: GGMLType) throws {
        let cases = try KQuantFixtures.shared.cases("rows", type)
        let all = try quantize(type, cases.flatMap { Array($0.source) })
        #expect(all == cases.flatMap { Array($0.bytes) })
        let floats = try dequantize(type, all, count: cases.reduce(0) { $0 + $1.source.count })
        #expect(firstBitDifference(floats, cases.flatMap { Array($0.expected) }) == nil)
    }

    @Test("the registry knows all five K-quant types both ways", arguments: types)
    func registry(type: GGMLType) {
        #expect(Codecs.decoder(for: type)?.type == type)
        #expect(Codecs.encoder(for: type)?.type == type)
    }

    @Test("a byte count that does not fit the elements is an error, not a crash", arguments: types)
    func sizeMismatch(type: GGMLType) {
        let src = [Float](repeating: 0, count: 256)
        var dst = [UInt8](repeating: 0, count: type.typeSize - 1)
        #expect(throws: QuantError.sizeMismatch(type, elements: 256, bytes: type.typeSize - 1)) {
            try src.withUnsafeBufferPointer { s in
                try dst.withUnsafeMutableBytes { d in try Codecs.quantize(type, s, into: d) }
            }
        }
        let bytes = [UInt8](repeating: 0, count: type.typeSize)
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
