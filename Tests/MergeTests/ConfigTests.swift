import Foundation
import Testing
@testable import Merge

/// Stand-ins for merge methods with mergekit 0.1.5's parameter specs (the registry may be empty in this
/// branch): `merge_methods/linear.py`, `generalized_task_arithmetic.py` + `registry.py` (ties),
/// `slerp.py`, `passthrough.py`.
enum ConfigFakes {
    struct Method: MergeMethod {
        var name: String
        var parameters: [ParameterSpec]
        var basePolicy: BaseModelPolicy
        func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
            throw .other("fake method \(name) does not merge")
        }
    }

    /// linear: `weight` per input (base included, BasePolicy ignored), required; `normalize = True`.
    static let linear = Method(name: "linear", parameters: [
        ParameterSpec("weight", .number, .perModel, default: nil),
        ParameterSpec("normalize", .bool, .global, default: .bool(true)),
    ], basePolicy: .ignored)

    /// ties: shared int8_mask=False, normalize=True, rescale=False, lambda=1.0; per non-base
    /// weight (required), density=1.0; base required.
    static let ties = Method(name: "ties", parameters: [
        ParameterSpec("int8_mask", .bool, .global, default: .bool(false)),
        ParameterSpec("normalize", .bool, .global, default: .bool(true)),
        ParameterSpec("rescale", .bool, .global, default: .bool(false)),
        ParameterSpec("lambda", .number, .global, default: .number(1)),
        ParameterSpec("weight", .number, .perModel, default: nil),
        ParameterSpec("density", .number, .perModel, default: .number(1)),
    ], basePolicy: .required)

    /// slerp: shared `t`, required; base required.
    static let slerp = Method(name: "slerp", parameters: [
        ParameterSpec("t", .number, .global, default: nil),
    ], basePolicy: .required)

    /// passthrough: no parameters here (mergekit's optional `scale` has no default value).
    static let passthrough = Method(name: "passthrough", parameters: [], basePolicy: .ignored)
}

/// Parses `text` as `config.yml` in the merge fixtures' directory.
func config(_ text: String) throws -> MergeConfig {
    try MergeConfig.parse(text, file: "config.yml", directory: Fixture.directory.path)
}

/// The error description for a configuration, or nil when it parses.
func configFailure(_ text: String, validateFor method: (any MergeMethod)? = nil) -> String? {
    do {
        let parsed = try config(text)
        if let method { try parsed.validate(for: method) }
        return nil
    } catch {
        return "\(error)"
    }
}

// MARK: - Fixtures

@Test(arguments: [
    ("breadcrumbs_ties.yml", "breadcrumbs_ties"), ("dare_linear.yml", "dare_linear"), ("dare_ties.yml", "dare_ties"),
    ("della.yml", "della"), ("linear-nonorm.yml", "linear"), ("linear.yml", "linear"), ("model_stock.yml", "model_stock"),
    ("nuslerp.yml", "nuslerp"), ("passthrough-slices.yml", "passthrough"), ("slerp-gradient.yml", "slerp"),
    ("slerp.yml", "slerp"), ("task_arithmetic.yml", "task_arithmetic"), ("ties-gradient.yml", "ties"), ("ties.yml", "ties"),
])
func everyMergeFixtureLoads(_ file: String, _ method: String) throws {
    let loaded = try MergeConfig.load(path: Fixture.path(file))
    #expect(loaded.mergeMethod == method)
    #expect(loaded.dtype == "float32")
    for model in loaded.referencedModels {
        #expect(FileManager.default.fileExists(atPath: model.path), "\(model.path)")
        #expect(model.adapter == nil)
    }
}

@Test func linearFixtureContent() throws {
    let loaded = try MergeConfig.load(path: Fixture.path("linear.yml"))
    guard case let .models(models) = loaded.inputs else { Issue.record("expected models"); return }
    #expect(models.map(\.model.text) == ["a.gguf", "b.gguf"])
    #expect(models[0].model.path == Fixture.path("a.gguf"))
    #expect(models[0].parameters["weight"] == .scalar(.scalar("0.7", .plain, Mark(line: 4, column: 15))))
    #expect(models[1].mark == Mark(line: 5, column: 12))
    #expect(loaded.baseModel == nil && loaded.parameters.isEmpty && loaded.tokenizerSource == nil)
}

@Test func passthroughSlicesFixtureContent() throws {
    let loaded = try MergeConfig.load(path: Fixture.path("passthrough-slices.yml"))
    guard case let .slices(slices) = loaded.inputs else { Issue.record("expected slices"); return }
    #expect(slices.count == 2)
    #expect(slices[0].sources.map(\.layerRange) == [0 ..< 2])
    #expect(slices[1].sources.map(\.layerRange) == [1 ..< 3])
    #expect(slices[1].sources[0].model.path == Fixture.path("b.gguf"))
}

// MARK: - Schema

@Test func fullSchema() throws {
    let parsed = try config("""
    models:
      - model: ./a.gguf
      - model: sub/../b.gguf+lora.gguf
      - model: {model: c.gguf, lora: l2.gguf, lora_scale: 0.5}
    base_model: /abs/base.gguf
    merge_method: linear
    dtype: torch.bfloat16
    out_dtype: float16
    tokenizer_source: base
    chat_template: chatml
    name: my-merge
    """)
    guard case let .models(models) = parsed.inputs else { Issue.record("expected models"); return }
    let dir = Fixture.directory.path
    #expect(models[0].model == ModelReference(path: dir + "/a.gguf"))
    #expect(models[0].model.text == "./a.gguf")
    #expect(models[1].model.path == dir + "/b.gguf" && models[1].model.adapter == dir + "/lora.gguf")
    #expect(models[1].model.adapterScale == nil)
    #expect(models[2].model.adapter == dir + "/l2.gguf" && models[2].model.adapterScale == 0.5)
    #expect(models[2].model.text == "c.gguf+l2.gguf")
    #expect(parsed.baseModel?.path == "/abs/base.gguf")
    #expect(parsed.dtype == "bfloat16" && parsed.outDtype == "float16")
    #expect(parsed.tokenizerSource == .base && parsed.chatTemplate == "chatml" && parsed.name == "my-merge")
    #expect(parsed.referencedModels.map(\.text) == ["/abs/base.gguf", "./a.gguf", "sub/../b.gguf+lora.gguf", "c.gguf+l2.gguf"])
}

@Test func tokenizerForms() throws {
    let base = "models:\n  - model: a.gguf\nmerge_method: linear\n"
    #expect(try config(base + "tokenizer_source: b.gguf").tokenizerSource == .model(ModelReference(path: Fixture.path("b.gguf"))))
    #expect(try config(base + "tokenizer:\n  source: base").tokenizerSource == .base)
    #expect(try config(base + "tokenizer: {source: a.gguf, tokens: null}").tokenizerSource == .model(ModelReference(path: Fixture.path("a.gguf"))))
    #expect(try config(base + "tokenizer_source: union").tokenizerSource == .union)
    // mergekit's default source is union.
    let block = try config(base + """
    tokenizer:
      pad_to_multiple_of: 8
      tokens:
        <|im_start|>: {source: b.gguf, force: true}
        <|im_end|>: {source: {kind: zero}}
        <x>: {source: {kind: model_token, model: a.gguf, token_id: 3}}
    """)
    #expect(block.tokenizerSource == .union && block.padToMultipleOf == 8)
    #expect(block.tokenEmbeddings.map(\.token) == ["<|im_start|>", "<|im_end|>", "<x>"])
    #expect(block.tokenEmbeddings[0].source == .model(ModelReference(path: Fixture.path("b.gguf"))) && block.tokenEmbeddings[0].force)
    #expect(block.tokenEmbeddings[1].source == .zero && !block.tokenEmbeddings[1].force)
    #expect(block.tokenEmbeddings[2].source == .modelToken(ModelReference(path: Fixture.path("a.gguf")), token: nil, tokenID: 3))
    #expect(block.referencedModels.map(\.text) == ["a.gguf", "b.gguf"])
}

@Test func chatTemplateNames() throws {
    #expect(try ChatTemplate.resolve("chatml", inputTemplates: [])?.hasPrefix("{% for message in messages %}{{'<|im_start|>'") == true)
    #expect(try ChatTemplate.resolve("llama3", inputTemplates: [])?.contains("<|start_header_id|>") == true)
    #expect(Set(ChatTemplate.named.keys) == ["alpaca", "chatml", "exaone", "llama3", "mistral"])
    let custom = "{% for m in messages %}{{ m.content }}{% endfor %}"
    #expect(try ChatTemplate.resolve(custom, inputTemplates: []) == custom)
    #expect(throws: ChatTemplate.Invalid(setting: "{{x}}")) { try ChatTemplate.resolve("{{x}}", inputTemplates: []) }
    // auto: the most common template among the inputs (trimmed), first on ties; none keeps the model's.
    #expect(try ChatTemplate.resolve("auto", inputTemplates: ["a ", nil, "b", "b\n"]) == "b")
    #expect(try ChatTemplate.resolve("auto", inputTemplates: ["a", "b"]) == "a")
    #expect(try ChatTemplate.resolve("auto", inputTemplates: [nil, nil]) == nil)
}

@Test(arguments: [
    // Unknown and unsupported keys.
    ("models:\n  - model: a.gguf\nmerge_method: linear\nmerge_mehtod: x\n",
     "config.yml:4:1: unknown key 'merge_mehtod' (expected one of: models, slices, merge_method, base_model, parameters, dtype, out_dtype, tokenizer_source, tokenizer, chat_template, name, imatrix, out_path)"),
    ("modules:\n  text: {}\nmerge_method: linear\n", "config.yml:1:1: 'modules' is not supported (use 'models' or 'slices')"),
    ("models:\n  - model: a.gguf\n    weight: 1\nmerge_method: linear\n",
     "config.yml:3:5: unknown key 'weight' in a 'models' entry (expected 'model', 'parameters')"),
    ("models:\n  - model: a.gguf\n    parameters:\n      weight:\n        - pattern: mlp\n          value: 1\nmerge_method: linear\n",
     "config.yml:5:11: parameter 'weight' of model 'a.gguf': unknown key 'pattern' in a conditional value (expected 'filter' and 'value')"),
    // models / slices: exactly one.
    ("merge_method: linear\n", "config.yml: exactly one of 'models' or 'slices' must be given (and not empty)"),
    ("models: []\nmerge_method: linear\n", "config.yml: exactly one of 'models' or 'slices' must be given (and not empty)"),
    ("models:\n  - model: a.gguf\nslices:\n  - sources:\n      - model: a.gguf\n        layer_range: [0, 1]\nmerge_method: linear\n",
     "config.yml:3:1: exactly one of 'models' or 'slices' must be given (and not empty)"),
    ("models:\n  - model: a.gguf\n", "config.yml: missing 'merge_method'"),
    ("[1, 2]\n", "config.yml:1:1: a merge configuration must be a mapping (models:, merge_method:, …), not a list"),
    // Models.
    ("models:\n  - model: mistralai/Mistral-7B-v0.1\nmerge_method: linear\n",
     "config.yml:2:12: model 'mistralai/Mistral-7B-v0.1' looks like a Hugging Face repository id; ggufmerge reads local GGUF files: give the path of a .gguf file (download and convert the model first)"),
    ("models:\n  - model: a.gguf+b.gguf+c.gguf\nmerge_method: linear\n",
     "config.yml:2:12: cannot parse model 'a.gguf+b.gguf+c.gguf': expected 'model.gguf' or 'model.gguf+adapter.gguf'"),
    ("models:\n  - model: a.gguf\n  - model: ./a.gguf\nmerge_method: linear\n",
     "config.yml:3:12: model './a.gguf' is listed twice in 'models' (first at 2:12)"),
    ("models:\n  - parameters: {weight: 1}\nmerge_method: linear\n", "config.yml:2:5: a 'models' entry has no 'model'"),
    ("models:\n  - model: {model: a.gguf, override_architecture: X}\nmerge_method: linear\n",
     "config.yml:2:28: 'override_architecture' is not supported (ggufmerge reads the architecture from the GGUF)"),
    // Slices.
    ("slices:\n  - sources:\n      - model: a.gguf\n        layer_range: [0, 2]\n      - model: b.gguf\n        layer_range: [0, 3]\nmerge_method: slerp\n",
     "config.yml:3:7: all sources of slices[0] must have the same number of layers (layer_range lengths: 2, 3)"),
    ("slices:\n  - sources:\n      - model: a.gguf\n        layer_range: [0]\nmerge_method: passthrough\n",
     "config.yml:4:22: 'layer_range' must be two integers [start, end]"),
    ("slices:\n  - sources:\n      - model: a.gguf\n        layer_range: [3, 1]\nmerge_method: passthrough\n",
     "config.yml:4:22: 'layer_range' [3, 1] is empty or negative"),
    ("slices:\n  - sources:\n      - model: a.gguf\nmerge_method: passthrough\n",
     "config.yml:3:9: a 'sources' entry has no 'layer_range'"),
    // Tokenizer, dtype.
    ("models:\n  - model: a.gguf\nmerge_method: linear\ntokenizer:\n  pad_to_multiple_of: 0\n",
     "config.yml:5:23: tokenizer.pad_to_multiple_of must be a positive integer"),
    ("models:\n  - model: a.gguf\nmerge_method: linear\ntokenizer:\n  tokens: {x: {source: {kind: model_token, model: a.gguf}}}\n",
     "config.yml:5:24: 'tokenizer.tokens.x.source': give exactly one of 'token' or 'token_id'"),
    ("models:\n  - model: a.gguf\nmerge_method: linear\ntokenizer:\n  tokens: {x: {source: {kind: one}}}\n",
     "config.yml:5:24: 'tokenizer.tokens.x.source.kind' must be model_token or zero"),
    ("models:\n  - model: a.gguf\nmerge_method: linear\nchat_template: vicuna\n",
     "config.yml:4:16: chat_template: invalid chat template 'vicuna' (expected auto, one of alpaca, chatml, exaone, llama3, mistral, or a Jinja template)"),
    ("models:\n  - model: a.gguf\nmerge_method: linear\ntokenizer_source: base\ntokenizer: {source: base}\n",
     "config.yml:5:12: cannot specify both 'tokenizer_source' and 'tokenizer'"),
    ("models:\n  - model: a.gguf\nmerge_method: linear\ndtype: float8\n",
     "config.yml:4:8: 'dtype' must be one of bfloat16, float16, float32, float64, not 'float8'"),
    // Parameter shapes.
    ("models:\n  - model: a.gguf\n    parameters:\n      weight: [1, {filter: x, value: 2}]\nmerge_method: linear\n",
     "config.yml:4:15: parameter 'weight' of model 'a.gguf' must be a value, a list of values (a gradient) or a list of '- filter: …, value: …' items, not a mix"),
    ("models:\n  - model: a.gguf\n    parameters:\n      weight:\nmerge_method: linear\n",
     "config.yml:4:14: parameter 'weight' of model 'a.gguf' has no value"),
    ("models:\n  - model: a.gguf\nmerge_method: linear\nparameters:\n  weight:\n    - filter: mlp\n",
     "config.yml:6:7: parameter 'weight': conditional item has no 'value'"),
])
func schemaErrors(_ text: String, _ expected: String) {
    #expect(configFailure(text) == expected)
}

@Test func modelReferenceParsing() throws {
    let dir = "/models/dir"
    let plain = try ModelReference.parse("x.gguf", directory: dir, file: "c", at: Mark(line: 1, column: 1))
    #expect(plain.path == "/models/dir/x.gguf" && plain.adapter == nil)
    let lora = try ModelReference.parse("../x.gguf+ad/a.gguf", directory: dir, file: "c", at: Mark(line: 1, column: 1))
    #expect(lora.path == "/models/x.gguf" && lora.adapter == "/models/dir/ad/a.gguf")
    // A path without '.gguf' and without '/' is left for the plan to find (or not).
    #expect(try ModelReference.parse("model-file", directory: dir, file: "c", at: Mark(line: 1, column: 1)).path == "/models/dir/model-file")
    // An existing directory or file is never mistaken for a repository id.
    let existing = try ModelReference.parse(Fixture.directory.path, directory: dir, file: "c", at: Mark(line: 1, column: 1))
    #expect(existing.path == Fixture.directory.path)
}

@Test func configInAnotherDirectory() throws {
    let directory = Fixture.directory.deletingLastPathComponent().appendingPathComponent("config")
    let loaded = try MergeConfig.load(path: directory.appendingPathComponent("chat-template.yml").path)
    #expect(loaded.referencedModels.map(\.path) == ["base.gguf", "a.gguf", "b.gguf"].map(Fixture.path))
    #expect(loaded.chatTemplate == "{% for m in messages %} {{ m['content'] }} {% endfor %}")
    #expect(loaded.name == "linear + chat template" && loaded.dtype == "bfloat16" && loaded.outDtype == "float32")
    #expect(loaded.tokenizerSource == .base)
    // linear ignores the base model, but mergekit still adds an unlisted base_model as one more input,
    // which then needs its own weight (here from nowhere: an error naming it).
    #expect(throws: ConfigError.invalid(file: loaded.file, at: nil, message:
        "merge method 'linear' requires parameter 'weight' of model '../merge/base.gguf', which is not set for tensor blk.0.attn_q.weight")) {
        try loaded.resolveParameters(for: ConfigFakes.linear, tensorName: "blk.0.attn_q.weight", layerCount: 3)
    }
}
