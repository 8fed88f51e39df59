import Foundation

/// mergekit's `karcher`: the Karcher (Riemannian) mean of the inputs' directions on the unit
/// hypersphere, scaled by their mean norm.
///
/// Parameters: `max_iter` (global integer, default 10), `tol` (global, default 1e-5). Inputs: any
/// number ≥ 1, all with equal weight `1/n`; the base model is not special (mergekit's contract:
/// base ignored), so a listed base is averaged like any other input. One input is returned unchanged.
///
/// As mergekit 0.1.5's `karcher_merge_tensors`, over each tensor as one flattened vector:
/// units `xᵢ/‖xᵢ‖` of the inputs with `‖xᵢ‖ > tol` (alphas renormalized over those), start at their
/// normalized weighted sum, then up to `max_iter` steps of `m ← cos‖τ‖·m + sin‖τ‖·τ/‖τ‖`, renormalized,
/// with `τ = Σ αᵢ·θᵢ/sin θᵢ·(uᵢ − cos θᵢ·m)` (terms with `θᵢ < tol` skipped), stopping when
/// `‖τ‖ < tol`; the result is `m · Σ (1/n)‖xᵢ‖` over all inputs.
///
/// Every iterate is a combination `Σ aᵢuᵢ` of the units, so the iteration runs on the coefficients
/// `a`, in `Double`, with every dot product and norm taken from the inputs' Gram matrix (one
/// statistics pass); the row pass then writes `Σ (scale·aᵢ/‖xᵢ‖)·xᵢ` in float32. mergekit iterates on
/// float32 vectors: the results agree to float32 rounding.
public struct Karcher: MergeMethod {
    public init() {}

    public let name = "karcher"
    static let maxIter = ParameterSpec("max_iter", .number, .global, default: .number(10))
    static let tol = ParameterSpec("tol", .number, .global, default: .number(1e-5))
    public var parameters: [ParameterSpec] { [Self.maxIter, Self.tol] }
    public var basePolicy: BaseModelPolicy { .ignored }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let maxIterValue = try unit.number(name, Self.maxIter)
        guard let maxIter = Int(exactly: maxIterValue) else {
            throw unit.invalid(name, "`max_iter` must be an integer; got \(maxIterValue.formatted)")
        }
        return Merge(inputs: unit.inputCount, maxIter: maxIter, tol: try unit.number(name, Self.tol))
    }

    /// One statistics pass (the Gram matrix `xᵢ·xⱼ`), then `Σ cᵢxᵢ` element by element.
    struct Merge: UnitMerge {
        var inputs: Int
        var maxIter: Int
        var tol: Double
        var gram: [Double]
        /// The output's coefficient of each input, once the iteration has run.
        var coefficients: [Float]?

        init(inputs: Int, maxIter: Int, tol: Double) {
            self.inputs = inputs
            self.maxIter = maxIter
            self.tol = tol
            gram = [Double](repeating: 0, count: inputs * inputs)
            coefficients = inputs == 1 ? [1] : nil
        }

        var needsPass: Bool { coefficients == nil }

        func statistics(_ piece: RowPiece) -> [Double] {
            var partial = [Double](repeating: 0, count: gram.count)
            for i in 0 ..< inputs {
                for j in i ..< inputs {
                    partial[i &* inputs &+ j] = VectorMath.dot(piece.inputs[i].readOnly, piece.inputs[j].readOnly)
                }
            }
            return partial
        }

        mutating func accumulate(_ partial: [Double]) {
            for k in gram.indices { gram[k] += partial[k] }
        }

        mutating func finishPass() {
            let n = inputs
            let norms = (0 ..< n).map { Float(gram[$0 &* n &+ $0].squareRoot()) }
            let alphas = [Double](repeating: 1.0 / Double(n), count: n)
            var scale: Float = 0
            for (alpha, norm) in zip(alphas, norms) { scale = scale + Float(alpha) * norm }
            let valid = (0 ..< n).filter { Double(norms[$0]) > tol }
            guard !valid.isEmpty else {
                // mergekit: `sum(tensor * 0)`: zeros (NaN where an input was not finite).
                coefficients = [Float](repeating: 0, count: n)
                return
            }
            let validSum = valid.reduce(0.0) { $0 + alphas[$1] }
            let weights = valid.map { alphas[$0] / validSum }
            // The units' Gram matrix and the norm of a combination of units.
            let units = valid.map { i in valid.map { j in
                gram[min(i, j) &* n &+ max(i, j)] / (Double(norms[i]) * Double(norms[j]))
            } }
            func dots(_ a: [Double]) -> [Double] {
                units.map { row in zip(row, a).reduce(0) { $0 + $1.0 * $1.1 } }
            }
            func norm(_ a: [Double]) -> Double { max(zip(a, dots(a)).reduce(0) { $0 + $1.0 * $1.1 }, 0).squareRoot() }

            // The starting point: the normalized weighted sum of the units.
            var mean = weights
            let meanNorm = norm(mean)
            if meanNorm < tol {
                mean = valid.indices.map { $0 == 0 ? 1 : 0 }
            } else {
                mean = mean.map { $0 / meanNorm }
            }
            for _ in 0 ..< max(maxIter, 0) {
                let cosines = dots(mean).map { min(max($0, -1), 1) }
                var tangent = [Double](repeating: 0, count: valid.count)
                var along = 0.0
                for k in valid.indices {
                    let theta = acos(cosines[k])
                    if theta < tol { continue }
                    let coefficient = weights[k] * (theta / sin(theta))
                    tangent[k] += coefficient
                    along += coefficient * cosines[k]
                }
                for k in valid.indices { tangent[k] -= along * mean[k] }
                let tangentNorm = norm(tangent)
                if tangentNorm < tol { break }
                let c = cos(tangentNorm), s = sin(tangentNorm)
                mean = zip(mean, tangent).map { c * $0 + s * ($1 / tangentNorm) }
                let unitNorm = norm(mean)
                if unitNorm > tol { mean = mean.map { $0 / unitNorm } }
            }
            var coefficients = [Float](repeating: 0, count: n)
            for (k, i) in valid.enumerated() { coefficients[i] = Float(Double(scale) * mean[k] / Double(norms[i])) }
            self.coefficients = coefficients
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            guard let coefficients else { return }
            if inputs == 1 {
                _ = output.update(fromContentsOf: piece.inputs[0])
                return
            }
            for i in output.indices { output[i] = 0 }
            for (x, c) in zip(piece.inputs, coefficients) {
                for i in output.indices { output[i] = output[i] + c * x[i] }
            }
        }
    }
}
