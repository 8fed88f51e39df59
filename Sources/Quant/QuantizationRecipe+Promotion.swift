import GGUF

/// A tensor whose type the requantization recipe raised above llama-quantize's choice.
public struct TypePromotion: Sendable, Hashable {
    /// Index into the recipe's ``QuantizationRecipe/tensors``.
    public var index: Int
    public var name: String
    /// llama-quantize's type for the tensor, and the type written instead.
    public var from: GGMLType
    public var to: GGMLType
}

extension QuantizationRecipe {
    /// The requantization recipe for inputs that are already quantized at low precision.
    ///
    /// Merging 4-bit files rounds twice: once in the inputs, once in the output. The `attn_v` and
    /// `ffn_down` tensors are the ones llama.cpp's own mixes already protect (Q4_K_M gives some of them
    /// Q6_K); measured on trained models, raising the rest of them by one step brings a merge of Q4_K_M
    /// inputs back within 0.5 % of the merge of their float originals, for ~2 % more bytes. So, when
    /// the file type is a llama-quantize mix, each `attn_v`/`ffn_down` tensor that the recipe leaves at
    /// the mix's base type and whose inputs include one stored at ≤ 5 bits per weight
    /// (`lowBitInputs(index)`) goes one step up (Q4_K → Q5_K, Q3_K → Q4_K, IQ3_XXS → IQ3_S, …).
    ///
    /// The recipe's own choices (and its `use_more_bits` layer counters) are made first and are not
    /// changed by a promotion: every other tensor keeps exactly llama-quantize's type. Tensors copied
    /// unchanged (not converted) are never promoted: re-encoding them would add bytes, not accuracy.
    public func promotions(lowBitInputs: (Int) -> Bool) -> [TypePromotion] {
        guard fileType.isMixture, !options.pure else { return [] }
        let base = fileType.baseType
        var result: [TypePromotion] = []
        for index in order where types[index] == base && isConverted(index) {
            let tensor = tensors[index]
            let category = TensorCategory(name: tensor.name)
            guard category.isAttentionVLike || category == .ffnDown, lowBitInputs(index),
                  let next = base.promoted, (tensor.shape.first ?? 0) % next.blockSize == 0 else { continue }
            result.append(TypePromotion(index: index, name: tensor.name, from: base, to: next))
        }
        return result
    }
}

extension FileType {
    /// Whether llama-quantize gives this file type a per-tensor mix (the K-quant `_S`/`_M`/`_L` types,
    /// Q2_K and the IQ types), as opposed to one type for every tensor (Q4_0, Q6_K, Q8_0, …).
    public var isMixture: Bool {
        switch self {
        case .q2_K, .q2_K_S, .q3_K_S, .q3_K_M, .q3_K_L, .q4_K_S, .q4_K_M, .q5_K_S, .q5_K_M,
             .iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq2_M, .iq3_XXS, .iq3_XS, .iq3_S, .iq3_M,
             .iq4_NL, .iq4_XS:
            true
        default:
            false
        }
    }
}

extension GGMLType {
    /// Bits each weight takes in this type (4.5 for Q4_K, 8.5 for Q8_0, 32 for F32).
    public var bitsPerWeight: Double { Double(typeSize * 8) / Double(blockSize) }

    /// The next step up in precision within the quantized types, as the requantization recipe uses it.
    var promoted: GGMLType? {
        switch self {
        case .q2_K: .q3_K
        case .q3_K: .q4_K
        case .q4_K: .q5_K
        case .q5_K: .q6_K
        case .iq1_S: .iq1_M
        case .iq1_M: .iq2_XXS
        case .iq2_XXS: .iq2_XS
        case .iq2_XS: .iq2_S
        case .iq2_S: .iq3_XXS
        case .iq3_XXS: .iq3_S
        case .iq3_S: .iq4_XS
        case .iq4_XS, .iq4_NL: .q5_K
        default: nil
        }
    }
}
