import Merge
import Testing

/// DARE and DELLA draw random masks: mergekit's come from torch's generator and cannot be
/// reproduced, so these tests compare *statistics* of the merged task vector `M = out − base`,
/// computed the same way from mergekit's expected file and from ours:
///
/// - Decoding: every element of M must equal the method's formula (rescale, weight, TIES sign
///   election, normalisation) for *some* choice of the two keep/drop bits — this checks the
///   deterministic part of the semantics exactly, on both outputs.
/// - Rescale: each task vector's factor, read off elements where only that model has a non-zero
///   delta, must equal `L1(d) / L1(kept d)` (mergekit's L1 rule, not 1/density) for the decoded
///   masks, and be close to its expectation `L1(d) / E[L1(kept d)]`.
/// - Kept fraction: among elements where only one model has a non-zero delta, the fraction kept
///   must match the expected keep probability (density for DARE; DELLA's rank-based probability).
///
/// Tolerances for random quantities are 5 standard deviations of the binomial / sum-of-Bernoulli
/// distribution, computed from the data (false alarm rate below 1e-5 per check); fixed-seed outputs
/// make our side deterministic, and mergekit's file is fixed, so the tests cannot flake.
@Suite struct RandomSparsificationTests {
    typealias H = MergeHarness

    struct Config: Sendable, CustomStringConvertible {
        var name: String
        var weight: Double
        var density: Double
        var epsilon: Double?
        var consensus: Bool
        var normalize: Bool

        var description: String { name }
        var method: any MergeMethod { MergeMethods.named(name)! }

        /// Runs our implementation on every fixture tensor.
        func merge(seed: UInt64) throws -> [String: [Float]] {
            var outputs: [String: [Float]] = [:]
            let m = method
            var perModel: [String: Double] = ["weight": weight, "density": density]
            if let epsilon { perModel["epsilon"] = epsilon }
            for name in H.tensorNames {
                outputs[name] = try H.merge(m, tensor: name, inputs: ["a", "b", "base"], base: "base",
                                            perModel: [H.model(m, perModel), H.model(m, perModel), H.model(m, [:])],
                                            global: H.global(m), seed: seed)
            }
            return outputs
        }

        func expected() throws -> [String: [Float]] {
            try Fixture.f32Tensors("expected-\(name).gguf").mapValues(\.values)
        }

        /// The keep probability of each element of a task vector: density for DARE; for DELLA
        /// (mergekit's `della_magprune`) `(density − ε) + rank/(m − 1)·2ε` with the ascending
        /// magnitude rank within the row.
        func keepProbabilities(_ d: [Double], rowLength: Int) -> [Double] {
            guard let epsilon else { return d.map { _ in density } }
            var p = [Double](repeating: 0, count: d.count)
            for start in stride(from: 0, to: d.count, by: rowLength) {
                let row = start ..< start + rowLength
                let ascending = row.sorted { abs(d[$0]) < abs(d[$1]) }
                for (rank, j) in ascending.enumerated() {
                    p[j] = (density - epsilon) + Double(rank) / Double(rowLength - 1) * 2 * epsilon
                }
            }
            return p
        }
    }

    static let configs: [Config] = [
        // dare_ties.yml: a, b: density 0.5, weight 1.0 (normalize false, rescale true by default).
        Config(name: "dare_ties", weight: 1, density: 0.5, epsilon: nil, consensus: true, normalize: false),
        // dare_linear.yml: a, b: density 0.5, weight 0.5.
        Config(name: "dare_linear", weight: 0.5, density: 0.5, epsilon: nil, consensus: false, normalize: false),
        // della.yml: a, b: density 0.5, epsilon 0.1, weight 1.0; lambda 1 (normalize, rescale true).
        Config(name: "della", weight: 1, density: 0.5, epsilon: 0.1, consensus: true, normalize: true),
    ]

    struct Report {
        var elements = 0
        var decodable = 0
        var decoded = 0
        /// Decoded non-zero elements where the two deltas have opposite signs: with a consensus
        /// method the formula allows only one of them there (never their sum), so the decoding
        /// checks the sign election on these.
        var conflicts = 0
        var nonzero = 0
        /// Per model, over elements where only that model's delta is non-zero.
        var singles = [0, 0]
        var kept = [0, 0]
        var keptExpected = [0.0, 0.0]
        var keptVariance = [0.0, 0.0]
        /// |observed − expected| / σ of each rescale factor (tensors with ≥ 200 non-zero deltas).
        var scaleZ: [Double] = []
        /// Worst relative distance of a factor from the interval the L1 rule allows given the
        /// decoded masks (0 when inside).
        var l1RuleError = 0.0
        /// Worst relative spread of the per-element factor estimates within one tensor.
        var scaleSpread = 0.0
    }

    static func analyze(_ outputs: [String: [Float]], _ config: Config) -> Report {
        var report = Report()
        for name in H.tensorNames {
            let base = H.models["base"]![name]!
            let rowLength = base.shape[0]
            let b = base.values.map(Double.init)
            let out = outputs[name]!.map(Double.init)
            let deltas = ["a", "b"].map { model in
                zip(H.models[model]![name]!.values, base.values).map { Double($0 - $1) }
            }
            let merged = zip(out, b).map { $0 - $1 }
            let n = b.count
            let weight = Double(Float(config.weight))
            let singleFactor = config.normalize ? 1 : weight

            // Factors from single-contributor elements: M = d·s·(normalize ? 1 : w).
            var scales: [Double] = []
            for i in 0 ..< 2 {
                let ratios = (0 ..< n).filter {
                    abs(deltas[i][$0]) > 1e-3 && deltas[1 - i][$0] == 0 && merged[$0] != 0
                }.map { merged[$0] / (deltas[i][$0] * singleFactor) }.sorted()
                let median = ratios.isEmpty ? .nan : ratios[ratios.count / 2]
                for r in ratios { report.scaleSpread = max(report.scaleSpread, abs(r / median - 1)) }
                scales.append(median)
            }

            // Decode each element.
            var keptL1 = [0.0, 0.0], ambiguousL1 = [0.0, 0.0]
            for j in 0 ..< n {
                report.elements += 1
                if merged[j] != 0 { report.nonzero += 1 }
                // A tensor without a usable single-contributor element cannot be decoded.
                if scales.contains(where: \.isNaN) { continue }
                report.decodable += 1
                var matches: [(Bool, Bool)] = []
                for ma in [false, true] {
                    for mb in [false, true] {
                        let c = [ma ? deltas[0][j] * scales[0] * weight : 0, mb ? deltas[1][j] * scales[1] * weight : 0]
                        var mixed = 0.0, divisor = 0.0
                        if config.consensus {
                            let majority: Double = c[0] + c[1] >= 0 ? 1 : -1
                            for k in 0 ..< 2 where c[k] * majority > 0 {
                                mixed += c[k]
                                divisor += weight
                            }
                            if divisor == 0 { divisor = 1 }
                        } else {
                            mixed = c[0] + c[1]
                            divisor = 2 * weight
                        }
                        let predicted = config.normalize ? mixed / divisor : mixed
                        let tolerance = 1e-6 * (abs(out[j]) + abs(b[j])) + 1e-4 * abs(predicted)
                        if abs(predicted - merged[j]) <= tolerance { matches.append((ma, mb)) }
                    }
                }
                if matches.isEmpty { continue }
                report.decoded += 1
                let bits = [Set(matches.map(\.0)), Set(matches.map(\.1))]
                if deltas[0][j] * deltas[1][j] < 0 && merged[j] != 0 { report.conflicts += 1 }
                for i in 0 ..< 2 where deltas[i][j] != 0 {
                    if bits[i] == [true] { keptL1[i] += abs(deltas[i][j]) }
                    if bits[i].count == 2 { ambiguousL1[i] += abs(deltas[i][j]) }
                }
            }

            for i in 0 ..< 2 {
                let p = config.keepProbabilities(deltas[i], rowLength: rowLength)
                // Kept fraction over single-contributor elements (kept ⇔ M ≠ 0 there).
                for j in 0 ..< n where deltas[i][j] != 0 && deltas[1 - i][j] == 0 {
                    report.singles[i] += 1
                    if merged[j] != 0 { report.kept[i] += 1 }
                    report.keptExpected[i] += p[j]
                    report.keptVariance[i] += p[j] * (1 - p[j])
                }
                guard !scales[i].isNaN else { continue }
                // The L1 rule: s = L1(d) / L1(kept d), with the kept set known up to ambiguous elements.
                let before = deltas[i].reduce(0) { $0 + abs($1) }
                let low = before / (keptL1[i] + ambiguousL1[i]), high = before / keptL1[i]
                let s = scales[i]
                let outside = s < low ? (low - s) / s : (s > high ? (s - high) / s : 0)
                report.l1RuleError = max(report.l1RuleError, outside)
                // The factor against its expectation L1(d) / Σ p|d|, σ by the delta method.
                let nonzero = deltas[i].filter { $0 != 0 }.count
                if nonzero >= 200 {
                    var mean = 0.0, variance = 0.0
                    for j in 0 ..< n {
                        mean += p[j] * abs(deltas[i][j])
                        variance += p[j] * (1 - p[j]) * deltas[i][j] * deltas[i][j]
                    }
                    let expected = before / mean
                    let sigma = expected * variance.squareRoot() / mean
                    report.scaleZ.append(abs(s - expected) / sigma)
                }
            }
        }
        return report
    }

    func checkSemantics(_ report: Report, _ what: String) {
        // Deterministic parts: exact up to float rounding.
        #expect(report.decoded == report.decodable, "\(what): \(report.decodable - report.decoded) elements not explained")
        #expect(report.decodable >= report.elements * 9 / 10, "\(what): too few elements decodable")
        #expect(report.scaleSpread < 1e-3, "\(what): rescale factor not constant within a tensor")
        #expect(report.l1RuleError < 1e-4, "\(what): rescale factor breaks the L1 rule by \(report.l1RuleError)")
        // Random parts: within 5σ of the expectation.
        for i in 0 ..< 2 {
            let z = (Double(report.kept[i]) - report.keptExpected[i]) / report.keptVariance[i].squareRoot()
            #expect(abs(z) < 5, "\(what): model \(i) kept \(report.kept[i]) of \(report.singles[i]), expected \(report.keptExpected[i])")
        }
        #expect(report.scaleZ.allSatisfy { $0 < 5 }, "\(what): rescale factors off their expectation: \(report.scaleZ)")
        #expect(report.scaleZ.count >= 8, "\(what): too few tensors to test the rescale factor")
    }

    @Test(arguments: configs)
    func mergekitOutputFollowsTheModel(_ config: Config) throws {
        // The oracle itself: confirms the model of mergekit's semantics the other tests rely on.
        let report = Self.analyze(try config.expected(), config)
        checkSemantics(report, "mergekit \(config.name)")
        #expect(report.conflicts >= 500)
    }

    @Test(arguments: configs)
    func oursMatchesMergekitStatistics(_ config: Config) throws {
        let ours = Self.analyze(try config.merge(seed: 0), config)
        let theirs = Self.analyze(try config.expected(), config)
        checkSemantics(ours, "ours \(config.name)")
        // Non-zero fraction of M: two binomial estimates over the same elements.
        let p = Double(ours.nonzero + theirs.nonzero) / Double(2 * ours.elements)
        let sigma = (2 * p * (1 - p) / Double(ours.elements)).squareRoot()
        let difference = Double(ours.nonzero - theirs.nonzero) / Double(ours.elements)
        #expect(abs(difference) < 5 * sigma, "\(config.name): non-zero fraction \(ours.nonzero) vs mergekit \(theirs.nonzero)")
        for i in 0 ..< 2 {
            let sigma = (2 * ours.keptVariance[i]).squareRoot()
            #expect(abs(Double(ours.kept[i] - theirs.kept[i])) < 5 * sigma,
                    "\(config.name): model \(i) kept \(ours.kept[i]) vs mergekit \(theirs.kept[i])")
        }
        print("\(config.name): non-zero \(ours.nonzero) vs mergekit \(theirs.nonzero) of \(ours.elements); kept \(ours.kept) vs \(theirs.kept) of \(ours.singles); conflicts \(ours.conflicts) vs \(theirs.conflicts)")
    }

    @Test(arguments: configs)
    func seedDeterminesOutput(_ config: Config) throws {
        let first = try config.merge(seed: 42)
        let again = try config.merge(seed: 42)
        let other = try config.merge(seed: 43)
        for name in H.tensorNames {
            #expect(first[name]!.map(\.bitPattern) == again[name]!.map(\.bitPattern), "\(name)")
        }
        #expect(H.tensorNames.contains { first[$0]! != other[$0]! })
    }

    /// The stream's uniforms look uniform and independent across streams (a sanity check of the
    /// generator: mean, variance and the Bernoulli rate over 10⁶ draws, within 5σ).
    @Test func randomStreamIsUniform() {
        let count = 1_000_000
        for index in 0 ..< 3 {
            let stream = RandomStream(seed: 7, stream: index)
            var sum = 0.0, squares = 0.0, below = 0
            for i in 0 ..< count {
                let u = Double(stream.uniform(at: i))
                sum += u
                squares += u * u
                if stream.bernoulli(0.3, at: i) { below += 1 }
            }
            let mean = sum / Double(count)
            #expect(abs(mean - 0.5) < 5 * (1.0 / 12 / Double(count)).squareRoot())
            #expect(abs(squares / Double(count) - mean * mean - 1.0 / 12) < 1e-3)
            #expect(abs(Double(below) / Double(count) - 0.3) < 5 * (0.21 / Double(count)).squareRoot())
        }
        #expect(RandomStream(seed: 7, stream: 0).bits(at: 5) != RandomStream(seed: 7, stream: 1).bits(at: 5))
        #expect(RandomStream(seed: 7, stream: 0).bits(at: 5) != RandomStream(seed: 8, stream: 0).bits(at: 5))
    }
}
