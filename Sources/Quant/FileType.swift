import GGUF

/// A llama.cpp file type: what `general.file_type` stores and what llama-quantize's `type` argument
/// names (`enum llama_ftype` in `llama.h`, names from `QUANT_OPTIONS` in `tools/quantize/quantize.cpp`).
///
/// The raw value is the `llama_ftype` id. All ids this llama.cpp version defines are listed so that a
/// file's `general.file_type` is recognized even when this version cannot produce it; which tensor
/// types a file type actually uses is ``QuantizationRecipe``'s business.
public enum FileType: UInt32, Sendable, CaseIterable, Hashable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 7
    case q5_0 = 8
    case q5_1 = 9
    case q2_K = 10
    case q3_K_S = 11
    case q3_K_M = 12
    case q3_K_L = 13
    case q4_K_S = 14
    case q4_K_M = 15
    case q5_K_S = 16
    case q5_K_M = 17
    case q6_K = 18
    case iq2_XXS = 19
    case iq2_XS = 20
    case q2_K_S = 21
    case iq3_XS = 22
    case iq3_XXS = 23
    case iq1_S = 24
    case iq4_NL = 25
    case iq3_S = 26
    case iq3_M = 27
    case iq2_S = 28
    case iq2_M = 29
    case iq4_XS = 30
    case iq1_M = 31
    case bf16 = 32
    case tq1_0 = 36
    case tq2_0 = 37
    case mxfp4_MOE = 38
    case nvfp4 = 39
    case q1_0 = 40
    case q2_0 = 41

    /// llama-quantize's name for this file type (`Q4_K_M`, `IQ4_XS`, `MXFP4_MOE`, …).
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q8_0: "Q8_0"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q2_K: "Q2_K"
        case .q3_K_S: "Q3_K_S"
        case .q3_K_M: "Q3_K_M"
        case .q3_K_L: "Q3_K_L"
        case .q4_K_S: "Q4_K_S"
        case .q4_K_M: "Q4_K_M"
        case .q5_K_S: "Q5_K_S"
        case .q5_K_M: "Q5_K_M"
        case .q6_K: "Q6_K"
        case .iq2_XXS: "IQ2_XXS"
        case .iq2_XS: "IQ2_XS"
        case .q2_K_S: "Q2_K_S"
        case .iq3_XS: "IQ3_XS"
        case .iq3_XXS: "IQ3_XXS"
        case .iq1_S: "IQ1_S"
        case .iq4_NL: "IQ4_NL"
        case .iq3_S: "IQ3_S"
        case .iq3_M: "IQ3_M"
        case .iq2_S: "IQ2_S"
        case .iq2_M: "IQ2_M"
        case .iq4_XS: "IQ4_XS"
        case .iq1_M: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4_MOE: "MXFP4_MOE"
        case .nvfp4: "NVFP4"
        case .q1_0: "Q1_0"
        case .q2_0: "Q2_0"
        }
    }

    /// Parses a file type as llama-quantize does (`try_parse_ftype`): a name, case-insensitively, with
    /// the aliases `Q3_K` = `Q3_K_M`, `Q4_K` = `Q4_K_M`, `Q5_K` = `Q5_K_M`; or a decimal id. Only the
    /// types llama-quantize offers are accepted (not `NVFP4`, which it cannot write). llama-quantize's
    /// `COPY` (copy every tensor unchanged) is not a file type here.
    public init?(name: String) {
        let upper = name.uppercased()
        switch upper {
        case "Q3_K": self = .q3_K_M; return
        case "Q4_K": self = .q4_K_M; return
        case "Q5_K": self = .q5_K_M; return
        default: break
        }
        if let match = FileType.allCases.first(where: { $0.name == upper }) {
            guard match.isOfferedByLlamaQuantize else { return nil }
            self = match
            return
        }
        guard let id = UInt32(upper), let match = FileType(rawValue: id), match.isOfferedByLlamaQuantize else {
            return nil
        }
        self = match
    }

    /// Whether llama-quantize of this llama.cpp version offers this file type (all but `NVFP4`).
    public var isOfferedByLlamaQuantize: Bool { self != .nvfp4 }

    /// The tensor type llama-quantize starts from for every quantizable tensor
    /// (`llama_ftype_get_default_type`): `Q4_K` for `Q4_K_M`, `IQ3_S` for `IQ3_XS`, `IQ2_XS` for `IQ2_S`,
    /// `MXFP4` for `MXFP4_MOE`… For `NVFP4`, which llama-quantize rejects ("invalid output file type"),
    /// this is `NVFP4`.
    public var baseType: GGMLType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q8_0: .q8_0
        case .q1_0: .q1_0
        case .q2_0: .q2_0
        case .mxfp4_MOE: .mxfp4
        case .nvfp4: .nvfp4
        case .q2_K, .q2_K_S: .q2_K
        case .iq3_XS: .iq3_S
        case .q3_K_S, .q3_K_M, .q3_K_L: .q3_K
        case .q4_K_S, .q4_K_M: .q4_K
        case .q5_K_S, .q5_K_M: .q5_K
        case .q6_K: .q6_K
        case .tq1_0: .tq1_0
        case .tq2_0: .tq2_0
        case .iq2_XXS: .iq2_XXS
        case .iq2_XS: .iq2_XS
        case .iq2_S: .iq2_XS
        case .iq2_M: .iq2_S
        case .iq3_XXS: .iq3_XXS
        case .iq1_S: .iq1_S
        case .iq1_M: .iq1_M
        case .iq4_NL: .iq4_NL
        case .iq4_XS: .iq4_XS
        case .iq3_S, .iq3_M: .iq3_S
        }
    }
}

extension FileType: CustomStringConvertible {
    public var description: String { name }
}
