import Testing
@testable import Merge

/// The piece pipeline: results do not depend on how a tensor is cut into pieces (only the order of
/// the statistics' sums changes), expert tensors are merged per expert, and the streaming magnitude
/// selection keeps exactly what the whole-tensor one keeps.
@Suite struct PieceStreamingTests {
    /// Deterministic pseudo-random values with some exact ties.
    static func values(_ count: Int, seed: Int) -> [Float] {
        let stream = RandomStream(seed: UInt64(seed), stream: 0)
        return (0 ..< count).map { i in
            let u = stream.uniform(at: i) - 0.5
            return i % 7 == 0 ? 0.25 : u
        }
    }

    /// Runs `method` with seed 11, cut into pieces of `rowsPerPiece` rows.
    static func run(_ method: any MergeMethod, name: String = "blk.0.attn_q.weight", shape: [Int], _ tensors: [[Float]],
                    modelParameters: [Parameters], parameters: Parameters = Parameters(), baseIndex: Int?,
                    rowsPerPiece: Int) throws -> [Float] {
        try MergeHarness.run(method, name: name, shape: shape, tensors, modelParameters: modelParameters,
                             parameters: parameters.values, baseIndex: baseIndex, seed: 11, rowsPerPiece: rowsPerPiece)
    }

    /// (method, global parameters, per-model parameters of the three inputs, base index).
    static let cases: [(any MergeMethod, [String: ParameterValue], [[String: Double]], Int?)] = [
        (Linear(), [:], [["weight": 0.2], ["weight": 0.5], ["weight": 0.3]], nil),
        (GeneralizedTaskArithmetic.taskArithmetic, [:], [["weight": 0.6], ["weight": 0.4], [:]], 2),
        (GeneralizedTaskArithmetic.ties, [:], [["weight": 0.6, "density": 0.3], ["weight": 0.4, "density": 0.5], [:]], 2),
        (GeneralizedTaskArithmetic.ties, ["rescale": .bool(true)], [["weight": 0.6, "density": 0.3], ["weight": 0.4, "density": 0.5], [:]], 2),
        (GeneralizedTaskArithmetic.breadcrumbsTies, [:], [["weight": 0.6, "density": 0.5, "gamma": 0.1], ["weight": 0.4, "density": 0.4], [:]], 2),
        (GeneralizedTaskArithmetic.dareTies, [:], [["weight": 0.6, "density": 0.5], ["weight": 0.4, "density": 0.7], [:]], 2),
        (GeneralizedTaskArithmetic.della, [:], [["weight": 0.6, "density": 0.5], ["weight": 0.4, "density": 0.6], [:]], 2),
        (SCE(), ["select_topk": .number(0.4)], [[:], [:], [:]], 2),
        (NuSLERP(), [:], [["weight": 0.3], ["weight": 0.7], [:]], 2),
        (NuSLERP(), ["nuslerp_flatten": .bool(false), "nuslerp_row_wise": .bool(true)], [["weight": 0.3], ["weight": 0.7], [:]], 2),
        (ModelStock(), [:], [[:], [:], [:]], 0),
        (MultiSLERP(), [:], [["weight": 0.5], ["weight": 0.3], ["weight": 0.2]], nil),
        (Karcher(), [:], [[:], [:], [:]], nil),
    ]

    /// Every method gives the same tensor cut into 1-row pieces as in one piece: bit for bit for
    /// the selection methods without rescale, to float rounding where sums are taken over pieces.
    @Test(arguments: cases.indices)
    func pieceSizeDoesNotMatter(_ index: Int) throws {
        let (method, global, perModel, base) = Self.cases[index]
        let shape = [16, 24]
        let tensors = (0 ..< 3).map { Self.values(16 * 24, seed: $0) }
        let parameters = MergeHarness.global(method, global)
        let models = perModel.map { MergeHarness.model(method, $0) }
        let one = try Self.run(method, shape: shape, tensors, modelParameters: models, parameters: parameters,
                               baseIndex: base, rowsPerPiece: 1)
        let whole = try Self.run(method, shape: shape, tensors, modelParameters: models, parameters: parameters,
                                 baseIndex: base, rowsPerPiece: 24)
        #expect(!one.contains { $0.isNaN }, "\(method.name)")
        #expect(MergeHarness.relativeError(one, whole) <= 1e-6, "\(method.name): \(MergeHarness.relativeError(one, whole))")
        if [GeneralizedTaskArithmetic.ties.name, GeneralizedTaskArithmetic.breadcrumbsTies.name].contains(method.name),
           global.isEmpty {
            #expect(one == whole, "\(method.name)")
        }
    }

    /// A 3-D expert tensor is merged expert by expert: SLERP's angle (and TIES's top-k) are each
    /// expert's own, as if each 2-D slice were merged alone.
    @Test(arguments: [0, 1])
    func expertsAreMergedOneByOne(_ which: Int) throws {
        let method: any MergeMethod = which == 0 ? SLERP() : GeneralizedTaskArithmetic.ties
        let (global, perModel): (Parameters, [Parameters]) = which == 0
            ? (Parameters(["t": .number(0.3)]), [Parameters(), Parameters()])
            : (MergeHarness.global(method), [MergeHarness.model(method, [:]), MergeHarness.model(method, ["weight": 1, "density": 0.3])])
        let experts = 3, slice = 8 * 5
        // Experts of very different scales, so that a whole-tensor statistic would differ.
        let base = (0 ..< experts).flatMap { e in Self.values(slice, seed: 10 + e).map { $0 * Float(e + 1) } }
        let other = (0 ..< experts).flatMap { e in Self.values(slice, seed: 20 + e).map { $0 * Float(3 - e) } }
        let merged = try Self.run(method, name: "blk.0.ffn_up_exps.weight", shape: [8, 5, experts], [base, other],
                                  modelParameters: perModel, parameters: global, baseIndex: 0, rowsPerPiece: 2)
        var separately: [Float] = []
        for e in 0 ..< experts {
            let range = e * slice ..< (e + 1) * slice
            separately += try Self.run(method, shape: [8, 5], [Array(base[range]), Array(other[range])],
                                       modelParameters: perModel, parameters: global, baseIndex: 0, rowsPerPiece: 5)
        }
        #expect(MergeHarness.relativeError(merged, separately) <= 1e-7)
        let whole = try Self.run(method, name: "blk.0.attn_q.weight", shape: [8, 5 * experts], [base, other],
                                 modelParameters: perModel, parameters: global, baseIndex: 0, rowsPerPiece: 2)
        #expect(MergeHarness.relativeError(merged, whole) > 1e-4)
    }

    /// The streaming selection over 1-row pieces keeps exactly the elements the whole-buffer radix
    /// select keeps, ties at the range ends included.
    @Test(arguments: [0 ..< 10, 3 ..< 40, 0 ..< 63, 17 ..< 64, 5 ..< 6])
    func streamingSelectionMatchesWholeTensor(_ ranks: Range<Int>) {
        let rowLength = 8
        // Few distinct magnitudes: every range end falls in a run of ties.
        let x: [Float] = (0 ..< 64).map { (i: Int) -> Float in
            let magnitude = Float((i * 37) % 5)
            let sign: Float = i % 2 == 0 ? 1 : -1
            let offset: Float = i % 11 == 0 ? 0.5 : 0
            return magnitude * sign + offset
        }
        var expected = x
        expected.withUnsafeMutableBufferPointer { MagnitudeSelection.keepDescendingRanks($0, ranks) }
        var selection = StreamingRankSelection(ranks, count: x.count)
        var got = x
        got.withUnsafeMutableBufferPointer { all in
            while selection.needsPass {
                for row in 0 ..< x.count / rowLength {
                    let piece = UnsafeBufferPointer(rebasing: all[row * rowLength ..< (row + 1) * rowLength])
                    selection.accumulate(selection.histogram(piece, rowLength: rowLength))
                }
                selection.finishPass()
            }
            for row in 0 ..< x.count / rowLength {
                selection.apply(UnsafeMutableBufferPointer(rebasing: all[row * rowLength ..< (row + 1) * rowLength]), firstRow: row)
            }
        }
        #expect(got == expected)
    }
}
