import Merge
import Testing

/// `karcher` (no mergekit fixture): small cases derived from mergekit's algorithm (equal weights
/// α = 1/N, Riemannian mean of the units, scaled by Σ α‖xᵢ‖), also checked against mergekit 0.1.5's
/// kernel.
@Suite struct KarcherTests {
    typealias H = MergeHarness
    let m = Karcher()

    @Test func parametersAreMergekits() {
        #expect(m.parameters == [ParameterSpec("max_iter", .number, .global, default: .number(10)),
                                 ParameterSpec("tol", .number, .global, default: .number(1e-5))])
    }

    @Test func twoInputs() throws {
        // [1, 0], [0, 1]: initial mean [1, 1]/√2; the tangent terms α·θ/sin θ·(uᵢ − cos θ·m) are
        // ±[0.5, −0.5]·const and cancel → stop. Scale 0.5·1 + 0.5·1 = 1.
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 1]]), [0.70710678, 0.70710678]) <= 1e-6)
        // [3, 0], [0, 1]: same direction, scale 0.5·3 + 0.5·1 = 2 (not the linear average [1.5, 0.5]).
        #expect(H.maxDifference(try H.run(m, [[3, 0], [0, 1]]), [1.41421356, 1.41421356]) <= 1e-6)
    }

    @Test func iterationReachesTheKarcherMean() throws {
        // Units at angles 0, π/2, 0 on a circle: the Karcher mean minimizes Σ θᵢ², i.e. the mean angle
        // π/6 → [cos π/6, sin π/6] = [0.8660254, 0.5]. The initial (extrinsic) mean [2, 1]/√5 is at
        // angle atan(1/2); one step of the exponential map reaches π/6 exactly (all on one great
        // circle), the next tangent vanishes.
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 1], [1, 0]]), [0.8660254, 0.5]) <= 1e-6)
        // max_iter 0 stops at the extrinsic mean [2, 1]/√5 = [0.89442719, 0.44721360].
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 1], [1, 0]], global: ["max_iter": .number(0)]),
                                [0.89442719, 0.44721360]) <= 1e-6)
    }

    @Test func zeroInputs() throws {
        // A zero input is left out of the mean but its α still counts in the scale: 0.5·0 + 0.5·2 = 1.
        #expect(try H.run(m, [[0, 0], [2, 0]]) == [1, 0])
        // All zero: zero.
        #expect(try H.run(m, [[0, 0], [0, 0]]) == [0, 0])
    }

    @Test func rejectsFractionalMaxIter() {
        #expect(throws: MergeError.self) { try H.run(m, [[1, 0], [0, 1]], global: ["max_iter": .number(2.5)]) }
    }
}
