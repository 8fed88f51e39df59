import GGUF
import Testing
@testable import Quant

/// llama-quantize's tensor types, order and metadata, against every reference file it wrote.
@Suite struct QuantizationRecipeTests {
    static let recipes: Fixtures.Recipes = {
        do { return try Fixtures.json("recipes.json", as: Fixtures.Recipes.self) } catch {
            fatalError("Fixtures/quant/recipes.json: \(error)")
        }
    }()

    static var fileNames: [String] { recipes.files.map(\.file) }

    static func tensors(_ list: [Fixtures.Recipes.Tensor]) throws -> [QuantizationRecipe.Tensor] {
        try list.map { QuantizationRecipe.Tensor(name: $0.name, shape: $0.shape, type: try #require(GGMLType(name: $0.type))) }
    }

    static func model(_ input: Fixtures.Recipes.Input) -> ModelHyperparameters {
        ModelHyperparameters(architecture: input.architecture, blockCount: input.blockCount,
                             headCount: input.headCount, headCountKV: input.headCountKV,
                             expertCount: input.expertCount)
    }

    @Test(arguments: fileNames)
    func reproducesEveryTensorTypeAndTheOrder(_ fileName: String) throws {
        let file = try #require(Self.recipes.files.first { $0.file == fileName })
        let input = try #require(Self.recipes.inputs[file.input])
        let fileType = try #require(FileType(rawValue: file.fileType))
        let tensors = try Self.tensors(input.tensors)
        let recipe = try QuantizationRecipe(fileType: fileType, options: .init(pure: file.pure),
                                            model: Self.model(input), tensors: tensors)
        // Order: the reference file lists tensors in the order llama-quantize wrote them.
        #expect(recipe.order.map { tensors[$0].name } == file.tensors.map(\.name))
        // Types and shapes, tensor by tensor.
        for (position, index) in recipe.order.enumerated() where position < file.tensors.count {
            let expected = file.tensors[position]
            #expect(recipe.type(forTensorAt: index).name == expected.type, "\(fileName): \(expected.name)")
            #expect(tensors[index].shape == expected.shape)
        }
        #expect(recipe.fallbackCount == 0)
    }

    @Test func readsHyperparametersFromMetadata() throws {
        let input = try #require(Self.recipes.inputs["tiny-f32.gguf"])
        let values = ["llama.block_count": input.blockCount, "llama.attention.head_count": input.headCount,
                      "llama.attention.head_count_kv": input.headCountKV]
        let model = try ModelHyperparameters(architecture: input.architecture) { values[$0] }
        #expect(model == Self.model(input))
        #expect(model.groupedQueryFactor == 2)
        #expect(throws: QuantError.missingMetadata(key: "qwen2.block_count")) {
            try ModelHyperparameters(architecture: "qwen2") { _ in nil }
        }
    }

    @Test(arguments: fileNames)
    func reproducesTheMetadataKeyOrder(_ fileName: String) throws {
        let file = try #require(Self.recipes.files.first { $0.file == fileName })
        let input = try #require(Self.recipes.inputs[file.input])
        let metadata = Metadata(input.keys.map { ($0, MetadataValue.uint32(0)) })
        let edited = QuantizedMetadata.apply(to: metadata, fileType: try #require(FileType(rawValue: file.fileType)))
        #expect(edited.keys == file.keys)
        #expect(Array(edited.values.suffix(2)) == [.uint32(2), .uint32(file.fileType)])
    }

    @Test(arguments: fileNames)
    func fileTypeNamesMatchTheReferenceFiles(_ fileName: String) throws {
        let file = try #require(Self.recipes.files.first { $0.file == fileName })
        // tiny-<FTYPE>.gguf was made with llama-quantize's name <FTYPE>; tiny-pure-<TYPE> with the _M
        // file type of that type (or the type itself for Q4_0 / Q8_0).
        guard !fileName.hasPrefix("tiny-pure-"), !fileName.contains("-requant-") else { return }
        let name = String(fileName.dropFirst("tiny-".count).dropLast(".gguf".count))
        let fileType = try #require(FileType(name: name))
        #expect(fileType.rawValue == file.fileType)
        #expect(fileType.name == name)
        #expect(FileType(name: name.lowercased()) == fileType)
        #expect(FileType(name: String(file.fileType)) == fileType)
    }

    @Test func fileTypeAliasesAndBaseTypes() {
        #expect(FileType(name: "Q4_K") == .q4_K_M)
        #expect(FileType(name: "q3_k") == .q3_K_M)
        #expect(FileType(name: "Q5_K") == .q5_K_M)
        #expect(FileType(name: "NVFP4") == nil)
        #expect(FileType(name: "COPY") == nil)
        #expect(FileType(name: "Q4_2") == nil)
        #expect(FileType(name: "4") == nil)
        // llama_ftype_get_default_type
        #expect(FileType.q4_K_M.baseType == .q4_K)
        #expect(FileType.iq2_S.baseType == .iq2_XS)
        #expect(FileType.iq2_M.baseType == .iq2_S)
        #expect(FileType.iq3_XS.baseType == .iq3_S)
        #expect(FileType.mxfp4_MOE.baseType == .mxfp4)
        #expect(FileType.f32.baseType == .f32)
        #expect(throws: QuantError.unsupportedFileType(.nvfp4)) {
            try QuantizationRecipe(fileType: .nvfp4, model: .init(architecture: "llama", blockCount: 1), tensors: [])
        }
    }

    // Synthetic models. Expected types are read off llama-quant.cpp (cited per case), not computed.

    static let llama = ModelHyperparameters(architecture: "llama", blockCount: 2, headCount: 4, headCountKV: 2)

    static func types(_ fileType: FileType, _ tensors: [(String, [Int])], options: QuantizationOptions = .init(),
                      model: ModelHyperparameters = llama) throws -> [String: GGMLType] {
        let list = tensors.map { QuantizationRecipe.Tensor(name: $0.0, shape: $0.1, type: .f32) }
        let recipe = try QuantizationRecipe(fileType: fileType, options: options, model: model, tensors: list)
        return Dictionary(uniqueKeysWithValues: list.indices.map { (list[$0].name, recipe.type(forTensorAt: $0)) })
    }

    @Test func shapeFallbacks() throws {
        // tensor_type_fallback: Q4_K → Q5_0 when ne0 % 256 != 0; F16 when not even a multiple of 32.
        // Output with ne0 % 256 != 0: Q8_0 (llama_tensor_get_type_impl's `nx % qk_k != 0`).
        let t = try Self.types(.q4_K_S, [
            ("blk.0.attn_q.weight", [96, 64]), ("blk.0.attn_k.weight", [80, 64]),
            ("output.weight", [96, 512]), ("token_embd.weight", [256, 512]),
            ("blk.0.ffn_up.weight", [512, 96]),
        ])
        #expect(t["blk.0.attn_q.weight"] == .q5_0)
        #expect(t["blk.0.attn_k.weight"] == .f16)
        #expect(t["output.weight"] == .q8_0)
        #expect(t["token_embd.weight"] == .q4_K)
        #expect(t["blk.0.ffn_up.weight"] == .q4_K)
        // Q6_K → Q8_0, Q5_K → Q5_1, Q2_K/Q3_K → Q4_0; a 32-block type with ne0 % 32 != 0 → F16.
        #expect(try Self.types(.q6_K, [("blk.0.attn_q.weight", [96, 8])])["blk.0.attn_q.weight"] == .q8_0)
        #expect(try Self.types(.q5_K_S, [("blk.0.attn_q.weight", [96, 8])])["blk.0.attn_q.weight"] == .q5_1)
        #expect(try Self.types(.q3_K_S, [("blk.0.attn_q.weight", [96, 8])])["blk.0.attn_q.weight"] == .q4_0)
        #expect(try Self.types(.q8_0, [("blk.0.attn_q.weight", [48, 8])])["blk.0.attn_q.weight"] == .f16)
        // F16 file type: base type is not a block type, so no fallback and no mixture.
        #expect(try Self.types(.f16, [("blk.0.attn_q.weight", [48, 8]), ("output.weight", [48, 8])])
            == ["blk.0.attn_q.weight": .f16, "output.weight": .f16])
    }

    @Test func tensorsThatAreNeverQuantized() throws {
        let t = try Self.types(.q8_0, [
            ("blk.0.attn_norm.weight", [256]), ("blk.0.attn_q.bias", [256, 4]), ("rope_freqs.weight", [32, 1]),
            ("blk.0.ffn_gate_inp.weight", [256, 8]), ("position_embd.weight", [256, 64]),
            ("blk.0.ssm_conv1d.weight", [4, 256]), ("blk.0.attn_q_norm.weight", [64, 2]),
            ("blk.0.attn_q.weight", [256, 256, 1, 1]),
        ])
        for name in ["blk.0.attn_norm.weight", "blk.0.attn_q.bias", "rope_freqs.weight", "blk.0.ffn_gate_inp.weight",
                     "position_embd.weight", "blk.0.ssm_conv1d.weight", "blk.0.attn_q_norm.weight"] {
            #expect(t[name] == .f32, "\(name)")
        }
        #expect(t["blk.0.attn_q.weight"] == .q8_0)
    }

    @Test func optionsOverrideTheMixture() throws {
        let tensors: [(String, [Int])] = [
            ("token_embd.weight", [256, 512]), ("output.weight", [256, 512]),
            ("blk.0.attn_v.weight", [256, 128]), ("blk.1.attn_v.weight", [256, 128]),
            ("blk.0.ffn_down.weight", [512, 256]), ("blk.1.ffn_down.weight", [512, 256]),
        ]
        let t = try Self.types(.q4_K_M, tensors, options: .init(
            leaveOutputTensor: true, tokenEmbeddingType: .q8_0,
            tensorTypeOverrides: [.init(pattern: "BLK\\.1\\.attn_v", type: .q5_0), .init(pattern: "attn_v", type: .q8_0)]))
        #expect(t["token_embd.weight"] == .q8_0)
        #expect(t["output.weight"] == .f32)
        #expect(t["blk.0.attn_v.weight"] == .q8_0) // second pattern
        #expect(t["blk.1.attn_v.weight"] == .q5_0) // first pattern wins (lowercased)
        #expect(t["blk.0.ffn_down.weight"] == .q4_K) // use_more_bits(0, 2) is false
        #expect(t["blk.1.ffn_down.weight"] == .q6_K) // use_more_bits(1, 2): 1 >= 7*2/8
        let u = try Self.types(.q4_0, tensors, options: .init(outputTensorType: .q8_0))
        #expect(u["output.weight"] == .q8_0)
        #expect(u["token_embd.weight"] == .q4_0)
    }

    @Test func tiedEmbeddingsGetTheOutputType() throws {
        // No output.weight: token_embd is treated like the output (Q6_K), as in llama_tensor_get_type_impl.
        let t = try Self.types(.q4_0, [("token_embd.weight", [256, 512]), ("blk.0.attn_q.weight", [256, 256])])
        #expect(t["token_embd.weight"] == .q6_K)
        #expect(t["blk.0.attn_q.weight"] == .q4_0)
    }

    @Test func q4_K_MUsesMoreBitsOnEighthsOfTheLayers() throws {
        // 16 layers: use_more_bits(i, 16) = i < 2 || i >= 14 || (i - 2) % 3 == 2.
        let model = ModelHyperparameters(architecture: "llama", blockCount: 16, headCount: 32, headCountKV: 8)
        let tensors = (0..<16).flatMap { i in
            [("blk.\(i).attn_v.weight", [4096, 1024]), ("blk.\(i).ffn_down.weight", [14336, 4096])]
        }
        let t = try Self.types(.q4_K_M, tensors, model: model)
        let more: Set = [0, 1, 4, 7, 10, 13, 14, 15]
        for i in 0..<16 {
            let expected: GGMLType = more.contains(i) ? .q6_K : .q4_K
            #expect(t["blk.\(i).attn_v.weight"] == expected, "layer \(i)")
            #expect(t["blk.\(i).ffn_down.weight"] == expected, "layer \(i)")
        }
    }

    @Test func importanceMatrixTypesAreRefused() throws {
        #expect(throws: QuantError.requiresImportanceMatrix(tensor: "blk.0.attn_q.weight", type: .iq2_XXS)) {
            try Self.types(.iq2_XXS, [("blk.0.attn_q.weight", [256, 256])])
        }
        #expect(throws: QuantError.requiresImportanceMatrix(tensor: "blk.0.attn_q.weight", type: .q2_K)) {
            try Self.types(.q2_K_S, [("blk.0.attn_q.weight", [256, 256])])
        }
        // output.weight and token_embd never need one.
        #expect(try Self.types(.iq2_XXS, [("output.weight", [256, 256])])["output.weight"] == .q5_K)
    }

    @Test func expertLayersComeFromTheName() throws {
        let moe = ModelHyperparameters(architecture: "llama", blockCount: 2, headCount: 4, headCountKV: 2, expertCount: 8)
        #expect(throws: QuantError.badLayer(tensor: "ffn_down_exps.weight", layers: 2)) {
            try Self.types(.q4_K_M, [("ffn_down_exps.weight", [512, 256, 8])], model: moe)
        }
        #expect(throws: QuantError.badLayer(tensor: "blk.7.ffn_down_exps.weight", layers: 2)) {
            try Self.types(.q4_K_M, [("blk.7.ffn_down_exps.weight", [512, 256, 8])], model: moe)
        }
        // 8 experts: attn_v → Q8_0 whatever the file type.
        #expect(try Self.types(.q4_K_M, [("blk.0.attn_v.weight", [256, 128])], model: moe)["blk.0.attn_v.weight"] == .q8_0)
    }

    @Test func tensorOrderIsNumericByLayer() {
        let names = ["blk.10.attn_q.weight", "output.weight", "blk.2.ffn_up.weight", "blk.2.attn_k.weight",
                     "token_embd.weight", "blk.0.attn_norm.weight", "output_norm.weight", "rope_freqs.weight"]
        let sorted = TensorOrder.sortedIndices(of: names).map { names[$0] }
        #expect(sorted == ["output.weight", "output_norm.weight", "rope_freqs.weight", "token_embd.weight",
                           "blk.0.attn_norm.weight", "blk.2.attn_k.weight", "blk.2.ffn_up.weight", "blk.10.attn_q.weight"])
        #expect(TensorOrder.layer(of: "blk.12.ffn_up.weight") == 12)
        #expect(TensorOrder.layer(of: "blk.x.ffn_up.weight") == -1)
        #expect(TensorOrder.layer(of: "output.weight") == -1)
        #expect(TensorOrder.precedes("token_embd.weight", "blk.0.attn_q.weight"))
    }
}

/// The requantization recipe for low-bit inputs, against llama-quantize's output for the same choice of
/// types (`recipes/Q4_K_M-promoted.gguf`, made with `--tensor-type` naming each tensor).
@Suite struct RequantizationPromotionTests {
    static let promoted: Fixtures.Recipes.File = {
        do { return try Fixtures.json("recipe-promoted.json", as: Fixtures.Recipes.File.self) } catch {
            fatalError("Fixtures/quant/recipe-promoted.json: \(error)")
        }
    }()

    func recipe(_ fileType: FileType, pure: Bool = false) throws -> QuantizationRecipe {
        let input = try #require(QuantizationRecipeTests.recipes.inputs["tiny-f32.gguf"])
        return try QuantizationRecipe(fileType: fileType, options: .init(pure: pure),
                                      model: QuantizationRecipeTests.model(input),
                                      tensors: try QuantizationRecipeTests.tensors(input.tensors))
    }

    @Test func promotedTypesAreLlamaQuantizesForTheSameChoice() throws {
        let recipe = try recipe(.q4_K_M)
        let promotions = recipe.promotions { _ in true }
        let promoted = Dictionary(uniqueKeysWithValues: promotions.map { ($0.index, $0.to) })
        #expect(recipe.order.map { recipe.tensors[$0].name } == Self.promoted.tensors.map(\.name))
        for (position, index) in recipe.order.enumerated() {
            let expected = Self.promoted.tensors[position]
            #expect((promoted[index] ?? recipe.type(forTensorAt: index)).name == expected.type, "\(expected.name)")
        }
        // Only the tensors the recipe left at the mix's base type move: blk.1's Q6_K ones stay.
        #expect(promotions.map(\.name).sorted() == ["blk.0.attn_v.weight", "blk.0.ffn_down.weight"])
        #expect(promotions.allSatisfy { $0.from == .q4_K && $0.to == .q5_K })
    }

    @Test func nothingMovesWithoutLowBitInputsOrOutsideAMix() throws {
        #expect(try recipe(.q4_K_M).promotions { _ in false }.isEmpty)
        #expect(try recipe(.q4_K_M, pure: true).promotions { _ in true }.isEmpty)
        #expect(try recipe(.q6_K).promotions { _ in true }.isEmpty)
        #expect(try recipe(.q8_0).promotions { _ in true }.isEmpty)
        let q3 = try recipe(.q3_K_M).promotions { _ in true }
        #expect(q3.allSatisfy { $0.from == .q3_K && $0.to == .q4_K })
    }

    @Test func bitsPerWeight() {
        #expect(GGMLType.q4_K.bitsPerWeight == 4.5)
        #expect(GGMLType.q5_K.bitsPerWeight == 5.5)
        #expect(GGMLType.q8_0.bitsPerWeight == 8.5)
        #expect(GGMLType.f32.bitsPerWeight == 32)
    }
}
