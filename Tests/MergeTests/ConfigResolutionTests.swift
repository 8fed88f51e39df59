import Foundation
import Testing
@testable import Merge

// Expected values below are derived by hand from mergekit 0.1.5's rules:
// - `plan_slice`: output layer i of a slice of n layers has t = i / (n − 1) (t = 1 when n = 1); `models:`
//   are one slice over all layers; embeddings and final norm / lm_head have t = 0.
// - `evaluate_setting`: a numeric gradient v[0…k−1] at t gives, with s = t·(k−1), i = ⌊s⌋,
//   j = min(k−1, i+1), f = s − i: (1 − f)·v[i] + f·v[j]; conditions take the first matching filter, where a
//   filter matches when it is a substring of the Hugging Face tensor name.
// - `resolve_parameters`: per-model settings, then the slice's, then the top-level ones; shared (global)
//   parameters from the slice's, then the top-level ones; defaults last; non-base parameters are not read
//   for the base model.

private func resolve(_ method: any MergeMethod, _ file: String, _ tensor: String,
                     layers: Int) throws -> ResolvedParameters {
    try MergeConfig.load(path: Fixture.path(file)).resolveParameters(for: method, tensorName: tensor, layerCount: layers)
}

private func number(_ parameters: Parameters, _ name: String) -> Double? { parameters[name]?.number }

private func close(_ a: Double?, _ b: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= 1e-12
}

// MARK: - NameMap

@Test func nameMapRoundTrips() {
    let pairs = [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output.weight", "lm_head.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"),
        ("blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight"),
        ("blk.2.attn_v.bias", "model.layers.2.self_attn.v_proj.bias"),
        ("blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"),
        ("blk.4.ffn_gate.weight", "model.layers.4.mlp.gate_proj.weight"),
        ("blk.5.ffn_up.weight", "model.layers.5.mlp.up_proj.weight"),
        ("blk.16.ffn_down.weight", "model.layers.16.mlp.down_proj.weight"),
        ("blk.7.attn_norm.weight", "model.layers.7.input_layernorm.weight"),
        ("blk.8.ffn_norm.weight", "model.layers.8.post_attention_layernorm.weight"),
        ("blk.9.attn_q_norm.weight", "model.layers.9.self_attn.q_norm.weight"),
    ]
    for (gguf, hf) in pairs {
        #expect(NameMap.huggingFaceName(forGGUF: gguf) == hf)
        #expect(NameMap.ggufName(forHuggingFace: hf) == gguf)
    }
    #expect(NameMap.huggingFaceName(forGGUF: "rope_freqs.weight") == nil)
    #expect(NameMap.huggingFaceName(forGGUF: "blk.0.attn_qkv.weight") == nil)
    #expect(NameMap.layerIndex(of: "blk.12.attn_q.weight") == 12)
    #expect(NameMap.layerIndex(of: "output.weight") == nil)
    #expect(NameMap.layerIndex(of: "blk.x.attn_q.weight") == nil)
}

@Test(arguments: [
    // mergekit's Hugging Face filters.
    ("self_attn", "blk.0.attn_q.weight", true), ("self_attn", "blk.0.attn_output.weight", true),
    ("self_attn", "blk.0.attn_norm.weight", false), ("self_attn", "blk.0.ffn_down.weight", false),
    ("mlp", "blk.3.ffn_gate.weight", true), ("mlp", "blk.3.ffn_up.weight", true), ("mlp", "blk.3.ffn_down.weight", true),
    ("mlp", "blk.3.ffn_norm.weight", false), ("mlp", "output_norm.weight", false),
    ("q_proj", "blk.1.attn_q.weight", true), ("layernorm", "blk.1.ffn_norm.weight", true),
    ("norm", "output_norm.weight", true), ("embed_tokens", "token_embd.weight", true), ("lm_head", "output.weight", true),
    ("layers.1", "blk.1.attn_q.weight", true), ("layers.1", "blk.12.attn_q.weight", true), ("layers.1", "blk.2.attn_q.weight", false),
    // `attn` is in Hugging Face names (self_attn), so it is matched as mergekit does: not on input_layernorm.
    ("attn", "blk.0.attn_norm.weight", false), ("attn", "blk.0.attn_v.weight", true),
    // GGUF-style filters.
    ("attn_q", "blk.0.attn_q.weight", true), ("attn_q", "blk.0.attn_k.weight", false),
    ("ffn", "blk.0.ffn_norm.weight", true), ("ffn_down", "blk.0.ffn_down.weight", true),
    ("blk.1.", "blk.1.attn_q.weight", true), ("blk.1.", "blk.11.attn_q.weight", false),
    ("output", "output.weight", true), ("output", "blk.0.attn_output.weight", true), ("token_embd", "token_embd.weight", true),
    // Unmapped tensors are matched on their GGUF names; `*` matches all.
    ("rope", "rope_freqs.weight", true), ("*", "blk.0.attn_norm.weight", true),
])
func filterMatching(_ filter: String, _ tensor: String, _ expected: Bool) {
    #expect(NameMap.matches(filter: filter, ggufName: tensor) == expected)
}

// MARK: - Fixtures (3 layers: t = 0, 0.5, 1)

@Test(arguments: [0, 1, 2])
func tiesGradientFixturePerLayer(_ layer: Int) throws {
    // ties-gradient.yml: a density [1, 0.7, 0.1] → 1, 0.7, 0.1 (s = 2t hits the knots exactly);
    // b weight [0, 0.3, 0.7, 1] → s = 3t = 0, 1.5, 3: 0, 0.5·0.3 + 0.5·0.7 = 0.5, 1;
    // c weight: 0.5 on mlp tensors (ffn_gate/up/down), else 0 (ffn_norm is post_attention_layernorm).
    let density = [1.0, 0.7, 0.1][layer]
    let bWeight = [0.0, 0.5, 1.0][layer]
    for (tensor, cWeight) in [("attn_k.weight", 0.0), ("attn_norm.weight", 0.0), ("ffn_down.weight", 0.5),
                              ("ffn_norm.weight", 0.0), ("ffn_up.weight", 0.5), ("attn_q.weight", 0.0)] {
        let r = try resolve(ConfigFakes.ties, "ties-gradient.yml", "blk.\(layer).\(tensor)", layers: 3)
        #expect(r.models.map(\.path) == ["a.gguf", "b.gguf", "c.gguf", "base.gguf"].map(Fixture.path))
        #expect(r.baseIndex == 3)
        #expect(r.global == Parameters(["int8_mask": .bool(true), "normalize": .bool(true), "rescale": .bool(false), "lambda": .number(1)]))
        #expect(r.perModel[0] == Parameters(["density": .number(density), "weight": .number(1)]))
        #expect(r.perModel[1] == Parameters(["density": .number(0.5), "weight": .number(bWeight)]))
        #expect(r.perModel[2] == Parameters(["density": .number(0.33), "weight": .number(cWeight)]), "\(tensor)")
        #expect(r.perModel[3] == Parameters(["density": .number(1)])) // base: defaults only
    }
}

@Test(arguments: ["output_norm.weight", "token_embd.weight", "output.weight"])
func tiesGradientFixtureNonLayerTensors(_ tensor: String) throws {
    // t = 0: a density 1, b weight 0; c: no mlp → 0.
    let r = try resolve(ConfigFakes.ties, "ties-gradient.yml", tensor, layers: 3)
    #expect(r.perModel[0] == Parameters(["density": .number(1), "weight": .number(1)]))
    #expect(r.perModel[1] == Parameters(["density": .number(0.5), "weight": .number(0)]))
    #expect(r.perModel[2] == Parameters(["density": .number(0.33), "weight": .number(0)]))
}

@Test(arguments: [0, 1, 2])
func slerpGradientFixturePerLayer(_ layer: Int) throws {
    // slerp-gradient.yml: t = [0, 0.5, 1] on self_attn, [1, 0.5, 0] on mlp, 0.5 elsewhere.
    let expected = [("attn_k.weight", [0.0, 0.5, 1.0][layer]), ("attn_q.weight", [0.0, 0.5, 1.0][layer]),
                    ("ffn_down.weight", [1.0, 0.5, 0.0][layer]), ("ffn_gate.weight", [1.0, 0.5, 0.0][layer]),
                    ("attn_norm.weight", 0.5), ("ffn_norm.weight", 0.5)]
    for (tensor, t) in expected {
        let r = try resolve(ConfigFakes.slerp, "slerp-gradient.yml", "blk.\(layer).\(tensor)", layers: 3)
        #expect(r.global == Parameters(["t": .number(t)]), "\(tensor)")
        #expect(r.models.map(\.path) == [Fixture.path("a.gguf"), Fixture.path("b.gguf")])
        #expect(r.baseIndex == 0 && r.perModel == [Parameters(), Parameters()])
    }
    for tensor in ["output_norm.weight", "token_embd.weight", "output.weight"] {
        #expect(try resolve(ConfigFakes.slerp, "slerp-gradient.yml", tensor, layers: 3).global == Parameters(["t": .number(0.5)]))
    }
}

@Test func plainFixturesResolve() throws {
    let linear = try resolve(ConfigFakes.linear, "linear.yml", "blk.1.attn_k.weight", layers: 3)
    #expect(linear.global == Parameters(["normalize": .bool(true)]) && linear.baseIndex == nil)
    #expect(linear.perModel == [Parameters(["weight": .number(0.7)]), Parameters(["weight": .number(0.3)])])
    let nonorm = try resolve(ConfigFakes.linear, "linear-nonorm.yml", "output_norm.weight", layers: 3)
    #expect(nonorm.global == Parameters(["normalize": .bool(false)]))
    #expect(nonorm.perModel == [Parameters(["weight": .number(0.7)]), Parameters(["weight": .number(0.6)])])
    let slerp = try resolve(ConfigFakes.slerp, "slerp.yml", "blk.2.ffn_down.weight", layers: 3)
    #expect(slerp.global == Parameters(["t": .number(0.3)]) && slerp.baseIndex == 0 && slerp.models.count == 2)
    let ties = try resolve(ConfigFakes.ties, "ties.yml", "blk.0.attn_norm.weight", layers: 3)
    #expect(ties.perModel.map { number($0, "density") } == [0.5, 0.7, 0.3, 1])
    #expect(ties.perModel.map { number($0, "weight") } == [1, 0.5, 0.8, nil])
}

@Test func passthroughFixtureLayout() throws {
    // passthrough-slices.yml: a layers [0, 2) then b layers [1, 3): four output layers.
    let loaded = try MergeConfig.load(path: Fixture.path("passthrough-slices.yml"))
    try loaded.validate(for: ConfigFakes.passthrough)
    let layout = try MergeLayout(config: loaded) { _ throws(ConfigError) in 3 }
    #expect(layout.layers.map(\.slice) == [0, 0, 1, 1])
    #expect(layout.layers.map(\.sourceLayers) == [[0], [1], [1], [2]])
    #expect(layout.layers.map(\.t) == [0, 1, 0, 1])
    #expect(layout.site(of: "blk.2.attn_k.weight") == TensorSite(name: "blk.2.attn_k.weight", slice: 1, t: 0, inputNames: ["blk.1.attn_k.weight"]))
    #expect(layout.site(of: "token_embd.weight")?.slice == 0)
    #expect(layout.site(of: "output_norm.weight")?.slice == 1)
    #expect(layout.site(of: "blk.4.attn_k.weight") == nil)
    let r = try loaded.resolveParameters(for: ConfigFakes.passthrough, at: #require(layout.site(of: "blk.3.ffn_down.weight")), layout: layout)
    #expect(r.models.map(\.path) == [Fixture.path("b.gguf")] && r.perModel == [Parameters()] && r.baseIndex == nil)
}

// MARK: - mergekit's README examples (model ids replaced by local GGUF paths)

/// examples/gradient-slerp.yml (40 layers).
private let gradientSlerp = """
slices:
  - sources:
      - model: orca_mini_v3_13b.gguf
        layer_range: [0, 40]
      - model: Platypus2-13B.gguf
        layer_range: [0, 40]
merge_method: slerp
base_model: orca_mini_v3_13b.gguf
parameters:
  t:
    - filter: self_attn
      value: [0, 0.5, 0.3, 0.7, 1]
    - filter: mlp
      value: [1, 0.5, 0.7, 0.3, 0]
    - value: 0.5 # fallback for rest of tensors
dtype: float16
"""

private let gradientSlerpLayers: [(Int, Double, Double)] = [
    // layer, self_attn t, mlp t. t = i/39, s = 4t = 4i/39:
    (0, 0.0, 1.0),
    // i = 10: s = 40/39, f = 1/39: (38·0.5 + 0.3)/39 = 19.3/39; (38·0.5 + 0.7)/39 = 19.7/39.
    (10, 19.3 / 39, 19.7 / 39),
    // i = 13: s = 4/3, f = 1/3: (2·0.5 + 0.3)/3 = 1.3/3; (2·0.5 + 0.7)/3 = 1.7/3.
    (13, 1.3 / 3, 1.7 / 3),
    // i = 20: s = 80/39, i = 2, f = 2/39: (37·0.3 + 2·0.7)/39 = 12.5/39; (37·0.7 + 2·0.3)/39 = 26.5/39.
    (20, 12.5 / 39, 26.5 / 39),
    // i = 26: s = 8/3, f = 2/3: (0.3 + 2·0.7)/3 = 1.7/3; (0.7 + 2·0.3)/3 = 1.3/3.
    (26, 1.7 / 3, 1.3 / 3),
    (39, 1.0, 0.0),
]

@Test(arguments: gradientSlerpLayers)
func readmeGradientSlerp(_ layer: Int, _ attention: Double, _ mlp: Double) throws {
    let parsed = try config(gradientSlerp)
    try parsed.validate(for: ConfigFakes.slerp)
    let t = { (tensor: String) throws -> Double? in
        try number(parsed.resolveParameters(for: ConfigFakes.slerp, tensorName: "blk.\(layer).\(tensor)", layerCount: 40).global, "t")
    }
    for tensor in ["attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"] {
        #expect(close(try t(tensor), attention), "\(tensor)")
    }
    for tensor in ["ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"] {
        #expect(close(try t(tensor), mlp), "\(tensor)")
    }
    #expect(try t("attn_norm.weight") == 0.5)
    #expect(try t("ffn_norm.weight") == 0.5)
}

/// The README's TIES example (examples/ties.yml in mergekit ≤ 0.0.4), on Llama-2-13B's 40 layers.
private let readmeTies = """
models:
  - model: psmathur_orca_mini_v3_13b.gguf
    parameters:
      density: [1, 0.7, 0.1] # density gradient
      weight: 1.0
  - model: garage-bAInd_Platypus2-13B.gguf
    parameters:
      density: 0.5
      weight: [0, 0.3, 0.7, 1] # weight gradient
  - model: WizardLM_WizardMath-13B-V1.0.gguf
    parameters:
      density: 0.33
      weight:
        - filter: mlp
          value: 0.5
        - value: 0
merge_method: ties
base_model: TheBloke_Llama-2-13B-fp16.gguf
parameters:
  normalize: true
  int8_mask: true
dtype: float16
"""

private let readmeTiesLayers: [(Int, Double, Double)] = [
    // layer, density of model 1 (s = 2i/39), weight of model 2 (s = 3i/39 = i/13).
    (0, 1.0, 0.0),
    // i = 13: s1 = 2/3, f = 2/3: (1 + 2·0.7)/3 = 0.8; s2 = 1: 0.3.
    (13, 2.4 / 3, 0.3),
    // i = 20: s1 = 40/39, f = 1/39: (38·0.7 + 0.1)/39 = 26.7/39; s2 = 20/13, f = 7/13: (6·0.3 + 7·0.7)/13 = 6.7/13.
    (20, 26.7 / 39, 6.7 / 13),
    // i = 26: s1 = 4/3, f = 1/3: (2·0.7 + 0.1)/3 = 0.5; s2 = 2: 0.7.
    (26, 1.5 / 3, 0.7),
    (39, 0.1, 1.0),
]

@Test(arguments: readmeTiesLayers)
func readmeTiesGradients(_ layer: Int, _ density: Double, _ weight: Double) throws {
    let parsed = try config(readmeTies)
    try parsed.validate(for: ConfigFakes.ties)
    let attention = try parsed.resolveParameters(for: ConfigFakes.ties, tensorName: "blk.\(layer).attn_v.weight", layerCount: 40)
    let mlp = try parsed.resolveParameters(for: ConfigFakes.ties, tensorName: "blk.\(layer).ffn_up.weight", layerCount: 40)
    for r in [attention, mlp] {
        #expect(close(number(r.perModel[0], "density"), density))
        #expect(number(r.perModel[0], "weight") == 1)
        #expect(number(r.perModel[1], "density") == 0.5)
        #expect(close(number(r.perModel[1], "weight"), weight))
        #expect(number(r.perModel[2], "density") == 0.33)
        #expect(r.baseIndex == 3 && r.perModel[3] == Parameters(["density": .number(1)]))
    }
    #expect(number(attention.perModel[2], "weight") == 0)
    #expect(number(mlp.perModel[2], "weight") == 0.5)
}

/// examples/orcamini-platy-44layer.yml: layers 0–23 of one model, then 20–39 of another.
@Test func readmePassthroughSlices() throws {
    let parsed = try config("""
    slices:
      - sources:
        - model: orca_mini_v3_13b.gguf
          layer_range: [0, 24]
      - sources:
        - model: Platypus2-13B.gguf
          layer_range: [20, 40]
    merge_method: passthrough
    dtype: float16
    """)
    try parsed.validate(for: ConfigFakes.passthrough)
    let layout = try MergeLayout(config: parsed) { _ throws(ConfigError) in 40 }
    #expect(layout.layers.count == 44)
    #expect(layout.layers[23] == MergeLayout.Layer(index: 23, slice: 0, t: 1, sourceLayers: [23]))
    #expect(layout.layers[24] == MergeLayout.Layer(index: 24, slice: 1, t: 0, sourceLayers: [20]))
    #expect(layout.layers[43] == MergeLayout.Layer(index: 43, slice: 1, t: 1, sourceLayers: [39]))
    // t within the first slice: i/23.
    #expect(layout.layers[10].t == 10.0 / 23)
    #expect(layout.site(of: "blk.30.ffn_down.weight")?.inputNames == ["blk.26.ffn_down.weight"])
    #expect(layout.site(of: "output.weight")?.slice == 1)
    #expect(layout.site(of: "token_embd.weight")?.slice == 0)
    // A slice past a model's end is an error.
    #expect(throws: ConfigError.self) { try MergeLayout(config: parsed) { _ throws(ConfigError) in 30 } }
}

// MARK: - Precedence, gradients, lax reading

@Test func precedenceAndFallThrough() throws {
    let parsed = try config("""
    slices:
      - sources:
          - model: a.gguf
            layer_range: [0, 3]
            parameters:
              weight:
                - filter: mlp
                  value: 2
              density: [0.2, 0.4]
          - model: b.gguf
            layer_range: [0, 3]
        parameters:
          weight: 3
          lambda: 0.5
    merge_method: ties
    base_model: b.gguf
    parameters:
      weight: 4
      density: 0.9
      lambda: 2
      normalize: false
    """)
    try parsed.validate(for: ConfigFakes.ties)
    let attention = try parsed.resolveParameters(for: ConfigFakes.ties, tensorName: "blk.1.attn_q.weight", layerCount: 3)
    // a's weight condition does not match attn_q: falls through to the slice's 3 (not the global 4).
    #expect(attention.perModel[0] == Parameters(["weight": .number(3), "density": .number(0.30000000000000004)]))
    #expect(attention.global == Parameters(["lambda": .number(0.5), "normalize": .bool(false), "int8_mask": .bool(false), "rescale": .bool(false)]))
    #expect(attention.baseIndex == 1 && attention.perModel[1] == Parameters(["density": .number(1)]))
    let mlp = try parsed.resolveParameters(for: ConfigFakes.ties, tensorName: "blk.2.ffn_up.weight", layerCount: 3)
    #expect(mlp.perModel[0] == Parameters(["weight": .number(2), "density": .number(0.4)]))
}

@Test func perModelFiltersSeeTheInputLayer() throws {
    // The second source reads layers 1–2 for output layers 0–1: its per-model filters see `blk.1.`
    // while global parameters see the output name `blk.0.` (mergekit passes each input's own name).
    let parsed = try config("""
    slices:
      - sources:
          - model: a.gguf
            layer_range: [0, 2]
          - model: b.gguf
            layer_range: [1, 3]
            parameters:
              weight: [{filter: blk.1., value: 5}, {value: 6}]
    merge_method: linear
    parameters:
      weight: 1
      normalize: [{filter: blk.1., value: false}, {value: true}]
    """)
    let r = try parsed.resolveParameters(for: ConfigFakes.linear, tensorName: "blk.0.attn_q.weight", layerCount: 3)
    #expect(r.perModel == [Parameters(["weight": .number(1)]), Parameters(["weight": .number(5)])])
    #expect(r.global == Parameters(["normalize": .bool(true)]))
}

@Test func flagGradientsSelectAndLaxValues() throws {
    let parsed = try config("""
    models:
      - model: a.gguf
        parameters: {weight: "0.25", density: 1e-5}
      - model: b.gguf
        parameters: {weight: .5, density: []}
    merge_method: ties
    base_model: base.gguf
    parameters:
      normalize: [true, false]
      int8_mask: yes
      rescale: 0
      density: 0.75
    """)
    try parsed.validate(for: ConfigFakes.ties)
    // Flags select v[⌊t·(k−1)⌋]: t = 0.5 → v[0], t = 1 → v[1].
    let middle = try parsed.resolveParameters(for: ConfigFakes.ties, tensorName: "blk.1.attn_q.weight", layerCount: 3)
    let last = try parsed.resolveParameters(for: ConfigFakes.ties, tensorName: "blk.2.attn_q.weight", layerCount: 3)
    #expect(middle.global["normalize"] == .bool(true) && last.global["normalize"] == .bool(false))
    #expect(middle.global["int8_mask"] == .bool(true) && middle.global["rescale"] == .bool(false))
    #expect(middle.perModel[0] == Parameters(["weight": .number(0.25), "density": .number(1e-5)]))
    // An empty gradient sets nothing: b's density falls through to the global 0.75.
    #expect(middle.perModel[1] == Parameters(["weight": .number(0.5), "density": .number(0.75)]))
}

@Test func singleLayerSliceHasTOne() throws {
    let parsed = try config("""
    slices:
      - sources:
          - model: a.gguf
            layer_range: [0, 1]
          - model: b.gguf
            layer_range: [0, 1]
    merge_method: slerp
    base_model: a.gguf
    parameters:
      t: [0.2, 0.8]
    """)
    #expect(try parsed.resolveParameters(for: ConfigFakes.slerp, tensorName: "blk.0.attn_q.weight", layerCount: 1).global["t"] == .number(0.8))
    #expect(try parsed.resolveParameters(for: ConfigFakes.slerp, tensorName: "output.weight", layerCount: 1).global["t"] == .number(0.2))
}

// MARK: - Validation and resolution errors

private func resolutionFailure(_ text: String, _ method: any MergeMethod, _ tensor: String = "blk.0.attn_q.weight") -> String? {
    do {
        _ = try config(text).resolveParameters(for: method, tensorName: tensor, layerCount: 3)
        return nil
    } catch {
        return "\(error)"
    }
}

@Test(arguments: [
    ("models:\n  - model: a.gguf\n    parameters:\n      weight: \"abc\"\nmerge_method: linear\n", "linear",
     "config.yml:4:15: parameter 'weight' of model 'a.gguf' must be a number"),
    ("models:\n  - model: a.gguf\n    parameters:\n      weight: [0, true]\nmerge_method: linear\n", "linear",
     "config.yml:4:19: parameter 'weight' of model 'a.gguf' must be a number"),
    ("models:\n  - model: a.gguf\n    parameters: {weight: 1}\nmerge_method: linear\nparameters:\n  normalize: 0.5\n", "linear",
     "config.yml:6:14: parameter 'normalize' must be true or false"),
    ("models:\n  - model: a.gguf\n    parameters: {weight: 1}\nmerge_method: linear\nparameters:\n  normalize: {filter: mlp, value: [1, maybe]}\n", "linear",
     "config.yml:6:39: parameter 'normalize' must be true or false"),
    ("models:\n  - model: a.gguf\n    parameters:\n      desnity: 0.5\nmerge_method: ties\nbase_model: base.gguf\n", "ties",
     "config.yml:4:7: parameter 'desnity' of model 'a.gguf': merge method 'ties' has no parameter 'desnity' (it takes: int8_mask, normalize, rescale, lambda, weight, density)"),
    ("models:\n  - model: a.gguf\n    parameters:\n      t: 0.5\n  - model: b.gguf\nmerge_method: slerp\nbase_model: b.gguf\n", "slerp",
     "config.yml:4:7: parameter 't' of model 'a.gguf': 't' is a global parameter of merge method 'slerp'; set it under the top-level (or a slice's) 'parameters:'"),
    ("models:\n  - model: a.gguf\n  - model: b.gguf\nmerge_method: slerp\nparameters:\n  t: 0.5\n", "slerp",
     "config.yml:4:15: merge method 'slerp' requires a base_model"),
    ("slices:\n  - sources:\n      - model: a.gguf\n        layer_range: [0, 3]\nmerge_method: slerp\nbase_model: b.gguf\nparameters: {t: 1}\n", "slerp",
     "config.yml:2:5: slices[0]: the base model 'b.gguf' must be one of the slice's sources"),
    ("models:\n  - model: a.gguf\nmerge_method: passthrough\nparameters:\n  scale: 2\n", "passthrough",
     "config.yml:5:3: parameter 'scale': merge method 'passthrough' has no parameter 'scale' (it takes none)"),
])
func validationErrors(_ text: String, _ method: String, _ expected: String) {
    let fake = [ConfigFakes.linear, ConfigFakes.ties, ConfigFakes.slerp, ConfigFakes.passthrough].first { $0.name == method }!
    #expect(configFailure(text, validateFor: fake) == expected)
}

@Test func resolutionErrors() {
    // A required parameter nobody sets.
    #expect(resolutionFailure("models:\n  - model: a.gguf\n  - model: b.gguf\n    parameters: {weight: 1}\nmerge_method: linear\n",
                              ConfigFakes.linear)
        == "config.yml: merge method 'linear' requires parameter 'weight' of model 'a.gguf', which is not set for tensor blk.0.attn_q.weight")
    // Set only for mlp tensors: missing on attention tensors.
    #expect(resolutionFailure("models:\n  - model: a.gguf\n  - model: b.gguf\nmerge_method: slerp\nbase_model: a.gguf\nparameters:\n  t: [{filter: mlp, value: 1}]\n",
                              ConfigFakes.slerp)
        == "config.yml: merge method 'slerp' requires parameter 't', which is not set for tensor blk.0.attn_q.weight")
    #expect(resolutionFailure("models:\n  - model: a.gguf\n  - model: b.gguf\nmerge_method: slerp\nbase_model: a.gguf\nparameters:\n  t: [{filter: mlp, value: 1}]\n",
                              ConfigFakes.slerp, "blk.0.ffn_up.weight") == nil)
    // Type errors surface at resolution too (for callers that skip validate(for:)).
    #expect(resolutionFailure("models:\n  - model: a.gguf\n    parameters: {weight: abc}\nmerge_method: linear\n", ConfigFakes.linear)
        == "config.yml:3:26: parameter 'weight' of model 'a.gguf' must be a number")
    // Layers differ among models.
    #expect(resolutionFailure("models:\n  - model: a.gguf\n    parameters: {weight: 1}\nmerge_method: linear\n", ConfigFakes.linear, "blk.3.attn_q.weight")
        == "config.yml: tensor blk.3.attn_q.weight is past the output's 3 layers")
}

@Test func methodLookup() throws {
    let parsed = try config("models:\n  - model: a.gguf\nmerge_method: no_such_method\n")
    #expect(throws: ConfigError.self) { try parsed.method() }
}

@Test func modelsWithDifferentLayerCounts() throws {
    let parsed = try config("models:\n  - model: a.gguf\n  - model: b.gguf\nmerge_method: linear\nparameters: {weight: 1}\n")
    #expect(throws: ConfigError.invalid(file: "config.yml", at: Mark(line: 2, column: 12), message:
        "all models must have the same number of layers (a.gguf: 3, b.gguf: 4); use 'slices' to merge layer ranges")) {
        try MergeLayout(config: parsed) { model throws(ConfigError) in model.text == "a.gguf" ? 3 : 4 }
    }
}
