import GGUF

/// The registry of block codecs by ggml type, and row-level entry points that check sizes.
public enum Codecs {
    /// The codec for `type`, or nil when this version cannot read it. Each family lists its types here
    /// once; a codec that also conforms to `BlockQuantizer` can write them too.
    public static func decoder(for type: GGMLType) -> (any BlockCodec.Type)? {
        switch type {
        // Float and legacy (32-element) codecs.
        case .f32: F32Codec.self
        case .f16: F16Codec.self
        case .bf16: BF16Codec.self
        case .q4_0: Q4_0.self
        case .q4_1: Q4_1.self
        case .q5_0: Q5_0.self
        case .q5_1: Q5_1.self
        case .q8_0: Q8_0.self
        case .q1_0: Q1_0.self
        case .q2_0: Q2_0.self
        // K-quants (Sources/Quant/KQuants).
        case .q2_K: Q2_K.self
        case .q3_K: Q3_K.self
        case .q4_K: Q4_K.self
        case .q5_K: Q5_K.self
        case .q6_K: Q6_K.self
        // Non-linear and ternary codecs (Sources/Quant/IQuants, Sources/Quant/Ternary).
        case .iq4_NL: IQ4_NL.self
        case .iq4_XS: IQ4_XS.self
        case .iq1_S: IQ1_S.self
        case .iq1_M: IQ1_M.self
        case .iq2_XXS: IQ2_XXS.self
        case .iq2_XS: IQ2_XS.self
        case .iq2_S: IQ2_S.self
        case .iq3_XXS: IQ3_XXS.self
        case .iq3_S: IQ3_S.self
        case .mxfp4: MXFP4.self
        case .tq1_0: TQ1_0.self
        case .tq2_0: TQ2_0.self
        default: nil
        }
    }

    /// The encoder for `type`, or nil when this version cannot write it (decode-only types).
    public static func encoder(for type: GGMLType) -> (any BlockQuantizer.Type)? {
        decoder(for: type) as? any BlockQuantizer.Type
    }

    /// The importance-weighted encoder for `type`, or nil when `type` has none (its quantization
    /// ignores an importance matrix, as llama.cpp's does for Q8_0 and the float types).
    public static func weightedEncoder(for type: GGMLType) -> (any WeightedBlockQuantizer.Type)? {
        decoder(for: type) as? any WeightedBlockQuantizer.Type
    }

    public static func canDequantize(_ type: GGMLType) -> Bool { decoder(for: type) != nil }
    /// Whether `type` can be written (with an importance matrix when `requiresImportance(type)`).
    public static func canQuantize(_ type: GGMLType) -> Bool { encoder(for: type) != nil || weightedEncoder(for: type) != nil }
    /// Whether ggml cannot write `type` without an importance matrix (IQ2_XXS, IQ2_XS, IQ1_S).
    public static func requiresImportance(_ type: GGMLType) -> Bool { weightedEncoder(for: type)?.requiresImportance ?? false }

    /// The whole blocks of `type` that `elements` floats and `bytes` bytes both are.
    /// - Throws: `.sizeMismatch` unless `elements` is a multiple of the block size and `bytes` its size.
    static func blockCount(_ type: GGMLType, elements: Int, bytes: Int) throws(QuantError) -> Int {
        guard elements % type.blockSize == 0, type.byteCount(elements: elements) == bytes else {
            throw .sizeMismatch(type, elements: elements, bytes: bytes)
        }
        return elements / type.blockSize
    }

    /// Decodes `src` (whole blocks of `type`) into `dst`, whose count must be the element count.
    public static func dequantize(_ type: GGMLType, _ src: UnsafeRawBufferPointer,
                                  into dst: UnsafeMutableBufferPointer<Float>) throws(QuantError) {
        guard let codec = decoder(for: type) else { throw .unsupported(type, operation: "dequantize") }
        let blocks = try blockCount(type, elements: dst.count, bytes: src.count)
        guard blocks > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        codec.dequantize(s, into: d, blocks: blocks)
    }

    /// Encodes `src` (a multiple of the block size) into `dst`, whose count must be the byte count.
    public static func quantize(_ type: GGMLType, _ src: UnsafeBufferPointer<Float>,
                                into dst: UnsafeMutableRawBufferPointer) throws(QuantError) {
        guard let codec = encoder(for: type) else { throw .unsupported(type, operation: "quantize") }
        let blocks = try blockCount(type, elements: src.count, bytes: dst.count)
        guard blocks > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        codec.quantize(s, into: d, blocks: blocks)
    }

    /// Encodes whole rows of `rowLength` floats, with per-column `importance` weights (`rowLength`
    /// values) when given, as llama-quantize does with an importance matrix; without one, the same
    /// bytes as `quantize(_:_:into:)`.
    public static func quantize(_ type: GGMLType, _ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableRawBufferPointer,
                                rowLength: Int, importance: UnsafeBufferPointer<Float>?) throws(QuantError) {
        guard let importance else {
            if encoder(for: type) != nil { return try quantize(type, src, into: dst) }
            return try quantizeRows(type, src, into: dst, rowLength: rowLength, importance: nil)
        }
        guard importance.count == rowLength else { throw .importanceLength(type, columns: rowLength, weights: importance.count) }
        try quantizeRows(type, src, into: dst, rowLength: rowLength, importance: importance.baseAddress)
    }

    private static func quantizeRows(_ type: GGMLType, _ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableRawBufferPointer,
                                     rowLength: Int, importance: UnsafePointer<Float>?) throws(QuantError) {
        guard let codec = weightedEncoder(for: type) else {
            // Types without a weighted search (Q8_0, floats) ignore the importance matrix, as llama.cpp does.
            if encoder(for: type) != nil { return try quantize(type, src, into: dst) }
            throw .unsupported(type, operation: "quantize")
        }
        if importance == nil && codec.requiresImportance { throw .requiresImportanceMatrix(tensor: "", type: type) }
        guard rowLength > 0, rowLength % type.blockSize == 0, src.count % rowLength == 0,
              type.byteCount(elements: src.count) == dst.count else {
            throw .sizeMismatch(type, elements: src.count, bytes: dst.count)
        }
        guard src.count > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        codec.quantize(s, into: d, rows: src.count / rowLength, rowLength: rowLength, importance: importance)
    }
}

/// Errors of the `Quant` module.
public enum QuantError: Error, Equatable, CustomStringConvertible {
    case unsupported(GGMLType, operation: String)
    case sizeMismatch(GGMLType, elements: Int, bytes: Int)
    // llama-quantize's type rules (QuantizationRecipe).
    case unsupportedFileType(FileType)
    case requiresImportanceMatrix(tensor: String, type: GGMLType)
    case noTypeFallback(tensor: String, type: GGMLType, columns: Int)
    case badLayer(tensor: String, layers: Int)
    case invalidTensorTypePattern(String)
    case missingMetadata(key: String)
    case importanceLength(GGMLType, columns: Int, weights: Int)

    public var description: String {
        switch self {
        case let .unsupported(type, operation):
            "cannot \(operation) \(type.name) tensors (type not supported by this version)"
        case let .sizeMismatch(type, elements, bytes):
            "\(elements) elements do not fill \(bytes) bytes of \(type.name)"
        case let .unsupportedFileType(fileType):
            "llama-quantize cannot write file type \(fileType.name) (\(fileType.rawValue))"
        case let .requiresImportanceMatrix(tensor, type):
            "tensor \(tensor) would be \(type.name), which needs an importance matrix"
        case let .noTypeFallback(tensor, type, columns):
            "tensor \(tensor): rows of \(columns) do not fit \(type.name) blocks and no fallback type is defined"
        case let .badLayer(tensor, layers):
            "tensor \(tensor) has no layer number in [0, \(layers)) after 'blk.'"
        case let .invalidTensorTypePattern(pattern):
            "tensor type pattern '\(pattern)' is not a valid regular expression"
        case let .importanceLength(type, columns, weights):
            "\(type.name): an importance matrix entry of \(weights) values for rows of \(columns)"
        case let .missingMetadata(key):
            "metadata key \(key) is missing or not a positive integer"
        }
    }
}
