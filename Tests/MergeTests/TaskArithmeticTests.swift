import Merge
import Testing

/// The deterministic task-vector methods against mergekit 0.1.5's outputs of the fixture configs
/// (Fixtures/merge/<name>.yml → expected-<name>.gguf). Parameters are transcribed from each config
/// by hand; mergekit appends the base model after the listed models.
///
/// Tolerance: relative L2 error ≤ 1e-5 per tensor. The methods do mergekit's float32 operations in
/// its order, so the remaining difference is float rounding (mergekit's own output differs from
/// `base + Σ w·(x − base)` computed in numpy by ~1e-8 relative: its kernels round differently).
@Suite struct TaskArithmeticTests {
    typealias H = MergeHarness

    static let tolerance = 1e-5

    func check(_ config: String, _ method: any MergeMethod, inputs: [String],
               perModel: (String) -> [Parameters], global: Parameters) throws {
        let expected = try Fixture.f32Tensors("expected-\(config).gguf")
        var worst = 0.0
        for name in H.tensorNames {
            let want = try #require(expected[name]).values
            let got = try H.merge(method, tensor: name, inputs: inputs + ["base"], base: "base",
                                  perModel: perModel(name), global: global)
            let error = H.relativeError(got, want)
            worst = max(worst, error)
            #expect(error <= Self.tolerance, "\(config): \(name): relative L2 error \(error)")
        }
        print("\(config): max relative L2 error \(worst)")
    }

    @Test func taskArithmetic() throws {
        // task_arithmetic.yml: a weight 1.0, b weight 0.5; defaults (normalize false, lambda 1).
        let m = GeneralizedTaskArithmetic.taskArithmetic
        try check("task_arithmetic", m, inputs: ["a", "b"], perModel: { _ in
            [H.model(m, ["weight": 1.0]), H.model(m, ["weight": 0.5]), H.model(m, [:])]
        }, global: H.global(m))
    }

    @Test func ties() throws {
        // ties.yml: a (density 0.5, weight 1.0), b (0.7, 0.5), c (0.3, 0.8); normalize true.
        let m = GeneralizedTaskArithmetic.ties
        try check("ties", m, inputs: ["a", "b", "c"], perModel: { _ in
            [H.model(m, ["density": 0.5, "weight": 1.0]), H.model(m, ["density": 0.7, "weight": 0.5]),
             H.model(m, ["density": 0.3, "weight": 0.8]), H.model(m, [:])]
        }, global: H.global(m, ["normalize": .bool(true)]))
    }

    @Test func tiesGradient() throws {
        // ties-gradient.yml: a density [1, 0.7, 0.1] weight 1.0; b density 0.5 weight
        // [0, 0.3, 0.7, 1]; c density 0.33, weight 0.5 on `filter: mlp` else 0; normalize true,
        // int8_mask true.
        let m = GeneralizedTaskArithmetic.ties
        try check("ties-gradient", m, inputs: ["a", "b", "c"], perModel: { name in
            [H.model(m, ["density": H.gradient([1, 0.7, 0.1], tensor: name), "weight": 1.0]),
             H.model(m, ["density": 0.5, "weight": H.gradient([0, 0.3, 0.7, 1], tensor: name)]),
             H.model(m, ["density": 0.33, "weight": H.isMLP(name) ? 0.5 : 0]),
             H.model(m, [:])]
        }, global: H.global(m, ["normalize": .bool(true), "int8_mask": .bool(true)]))
    }

    @Test func breadcrumbsTies() throws {
        // breadcrumbs_ties.yml: a and b each density 0.8, gamma 0.05, weight 1.0; defaults
        // (normalize false, rescale false).
        let m = GeneralizedTaskArithmetic.breadcrumbsTies
        try check("breadcrumbs_ties", m, inputs: ["a", "b"], perModel: { _ in
            [H.model(m, ["density": 0.8, "gamma": 0.05, "weight": 1.0]),
             H.model(m, ["density": 0.8, "gamma": 0.05, "weight": 1.0]), H.model(m, [:])]
        }, global: H.global(m))
    }

    /// The gradient helper reproduces mergekit's interpolation for the config values used above.
    @Test func gradientValues() {
        #expect(H.gradient([0, 0.3, 0.7, 1], tensor: "blk.1.attn_k.weight") == 0.5)
        #expect(H.gradient([0, 0.3, 0.7, 1], tensor: "blk.2.attn_k.weight") == 1)
        #expect(H.gradient([1, 0.7, 0.1], tensor: "output_norm.weight") == 1)
        #expect(H.gradient([1, 0.7, 0.1], tensor: "blk.1.ffn_down.weight") == 0.7)
    }

    // MARK: - Specs and registry

    @Test(arguments: [
        // name, normalize default, rescale default, extra per-model parameter
        ("task_arithmetic", false, false, nil),
        ("ties", true, false, nil),
        ("dare_ties", false, true, nil),
        ("dare_linear", false, true, nil),
        ("breadcrumbs", false, false, "gamma"),
        ("breadcrumbs_ties", false, false, "gamma"),
        ("della", true, true, "epsilon"),
        ("della_linear", false, true, "epsilon"),
    ] as [(String, Bool, Bool, String?)])
    func registeredWithMergekitDefaults(name: String, normalize: Bool, rescale: Bool, extra: String?) throws {
        let method = try #require(MergeMethods.named(name))
        #expect(method.basePolicy == .required)
        let specs = Dictionary(uniqueKeysWithValues: method.parameters.map { ($0.name, $0) })
        #expect(specs["normalize"]?.defaultValue == .bool(normalize))
        #expect(specs["rescale"]?.defaultValue == .bool(rescale))
        #expect(specs["int8_mask"]?.defaultValue == .bool(false))
        #expect(specs["lambda"]?.defaultValue == .number(1))
        #expect(specs["weight"]?.scope == .perModel && specs["weight"]?.defaultValue == nil)
        #expect(specs["density"]?.defaultValue == .number(1))
        #expect(specs["gamma"]?.defaultValue == (extra == "gamma" ? .number(0.01) : nil))
        #expect(specs["epsilon"]?.defaultValue == (extra == "epsilon" ? .number(0.15) : nil))
        #expect(method.parameters.count == 6 + (extra == nil ? 0 : 1))
    }

    @Test func sceRegistered() throws {
        let method = try #require(MergeMethods.named("sce"))
        #expect(method.parameters == [
            ParameterSpec("int8_mask", .bool, .global, default: .bool(false)),
            ParameterSpec("select_topk", .number, .global, default: .number(1)),
        ])
    }

    // MARK: - Edge cases (mergekit's code paths)

    /// density 1 keeps every task vector whole, so TIES equals its election on the full vectors;
    /// with one model and normalize, that is the model itself where its delta is non-zero.
    @Test func densityOneKeepsEverything() throws {
        let m = GeneralizedTaskArithmetic.ties
        let name = "blk.1.ffn_down.weight"
        let got = try H.merge(m, tensor: name, inputs: ["a", "base"], base: "base",
                              perModel: [H.model(m, ["density": 1, "weight": 0.3]), H.model(m, [:])],
                              global: H.global(m))
        // One input: every non-zero delta agrees with itself, divided by its weight → a exactly.
        #expect(H.relativeError(got, H.models["a"]![name]!.values) <= 1e-6)
    }

    /// density 0 drops every element: the result is the base.
    @Test(arguments: ["ties", "dare_ties", "della", "breadcrumbs"])
    func densityZeroGivesBase(method name: String) throws {
        let m = try #require(MergeMethods.named(name))
        let tensor = "blk.0.attn_k.weight"
        let got = try H.merge(m, tensor: tensor, inputs: ["a", "b", "base"], base: "base",
                              perModel: [H.model(m, ["density": 0, "weight": 1]),
                                         H.model(m, ["density": 0, "weight": 1]), H.model(m, [:])],
                              global: H.global(m))
        #expect(got == H.models["base"]![tensor]!.values)
    }

    /// All weights zero: mergekit's divisor guard (0 → 1, |Σw| < 1e-8 → 1) leaves the base.
    @Test(arguments: ["ties", "dare_linear", "task_arithmetic"])
    func zeroWeightsGiveBase(method name: String) throws {
        let m = try #require(MergeMethods.named(name))
        let tensor = "blk.2.ffn_down.weight"
        let got = try H.merge(m, tensor: tensor, inputs: ["a", "b", "base"], base: "base",
                              perModel: [H.model(m, ["weight": 0]), H.model(m, ["weight": 0]), H.model(m, [:])],
                              global: H.global(m, ["normalize": .bool(true)]))
        #expect(got == H.models["base"]![tensor]!.values)
    }

    /// Only the base has the tensor: mergekit returns the base.
    @Test func onlyBase() throws {
        let m = GeneralizedTaskArithmetic.ties
        let tensor = "output_norm.weight"
        let got = try H.merge(m, tensor: tensor, inputs: ["base"], base: "base",
                              perModel: [H.model(m, [:])], global: H.global(m))
        #expect(got == H.models["base"]![tensor]!.values)
    }

    /// No base: mergekit refuses ("Merge method requires a base input").
    @Test func missingBaseThrows() {
        let m = GeneralizedTaskArithmetic.ties
        #expect(throws: MergeError.self) {
            _ = try H.merge(m, tensor: "output_norm.weight", inputs: ["a", "b"], base: nil,
                            perModel: [H.model(m, ["weight": 1]), H.model(m, ["weight": 1])], global: H.global(m))
        }
    }

    /// lambda scales the merged task vector: task_arithmetic with lambda 2 equals weights × 2.
    @Test func lambdaScales() throws {
        let m = GeneralizedTaskArithmetic.taskArithmetic
        let tensor = "blk.0.ffn_down.weight"
        let scaled = try H.merge(m, tensor: tensor, inputs: ["a", "b", "base"], base: "base",
                                 perModel: [H.model(m, ["weight": 1]), H.model(m, ["weight": 0.5]), H.model(m, [:])],
                                 global: H.global(m, ["lambda": .number(2)]))
        let doubled = try H.merge(m, tensor: tensor, inputs: ["a", "b", "base"], base: "base",
                                  perModel: [H.model(m, ["weight": 2]), H.model(m, ["weight": 1]), H.model(m, [:])],
                                  global: H.global(m))
        #expect(H.relativeError(scaled, doubled) <= 1e-6)
    }

    /// DELLA's epsilon must keep density ± epsilon inside (0, 1), as mergekit checks.
    @Test func dellaRejectsWideEpsilon() {
        let m = GeneralizedTaskArithmetic.della
        #expect(throws: MergeError.self) {
            _ = try H.merge(m, tensor: "blk.0.attn_k.weight", inputs: ["a", "base"], base: "base",
                            perModel: [H.model(m, ["density": 0.5, "epsilon": 0.5, "weight": 1]), H.model(m, [:])],
                            global: H.global(m))
        }
    }
}
