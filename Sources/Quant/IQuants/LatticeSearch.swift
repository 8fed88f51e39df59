/// The search tables llama.cpp's `iq2xs_init_impl` (IQ1, IQ2) and `iq3xs_init_impl` (IQ3) build for one
/// grid: the grid points as odd levels `2l + 1`, a map from every level vector to its grid index, and for
/// vectors off the grid the list of nearest grid points (all points at the `nwant` smallest squared
/// distances, ordered by distance, then index) to search instead.
///
/// Built once per process (``iq2xxsSearch`` …: Swift initializes globals lazily and thread-safely),
/// with the same lists in the same order as ggml's qsort by (distance, index).
@usableFromInline
struct LatticeSearch: Sendable {
    /// Coordinates a point (8 for IQ1/IQ2, 4 for IQ3).
    let dimensions: Int
    /// Point `k`'s coordinates `2l + 1` as floats, `dimensions` a point.
    let points: [Float]
    /// Point `k`'s levels `l`, `dimensions` a point.
    let levels: [Int8]
    /// By level vector (`bits` bits a coordinate): the grid index (≥ 0), or `-(offset + 1)` where
    /// `neighbours[offset]` is the count of the vector's neighbours and their indices follow.
    let map: [Int32]
    let neighbours: [UInt16]

    /// `kgrid`: the points as ggml-quants.c spells them (`bits` bits a coordinate); `mapSize`: ggml's
    /// `kmap_size`; `nwant`: how many distinct distances the neighbour lists cover.
    init(kgrid: [UInt16], dimensions: Int, bits: Int, mapSize: Int, nwant: Int) {
        self.dimensions = dimensions
        let mask = (1 << bits) - 1
        var levels = [Int8](repeating: 0, count: kgrid.count * dimensions)
        var map = [Int32](repeating: -1, count: mapSize)
        for (k, point) in kgrid.enumerated() {
            for i in 0..<dimensions {
                levels[k * dimensions + i] = Int8((Int(point) >> (bits * i)) & mask)
            }
            map[Int(point)] = Int32(k)
        }
        // Squared distances between level vectors, by halves: `halfDistance[a << halfBits | b]` is the
        // distance between the half-vectors `a` and `b`, so a point's distance is two lookups.
        let halfBits = dimensions * bits / 2
        let halfMask = (1 << halfBits) - 1
        var halfDistance = [Int32](repeating: 0, count: 1 << (2 * halfBits))
        for a in 0...halfMask {
            for b in 0...halfMask {
                var d2 = 0
                for k in 0..<dimensions / 2 {
                    let diff = 2 * (((a >> (bits * k)) & mask) - ((b >> (bits * k)) & mask))
                    d2 += diff * diff
                }
                halfDistance[a << halfBits | b] = Int32(d2)
            }
        }
        let low = kgrid.map { Int($0) & halfMask }, high = kgrid.map { Int($0) >> halfBits }
        var neighbours: [UInt16] = []
        var distances = [Int32](repeating: 0, count: kgrid.count)
        halfDistance.withUnsafeBufferPointer { table in
            low.withUnsafeBufferPointer { low in
                high.withUnsafeBufferPointer { high in
                    distances.withUnsafeMutableBufferPointer { distances in
                        for i in 0..<mapSize where map[i] < 0 {
                            let lowRow = table.baseAddress! + ((i & halfMask) << halfBits)
                            let highRow = table.baseAddress! + ((i >> halfBits) << halfBits)
                            // The `nwant` smallest distinct distances, ascending.
                            var smallest: [Int32] = []
                            for j in 0..<kgrid.count {
                                let d2 = lowRow[low[j]] &+ highRow[high[j]]
                                distances[j] = d2
                                if smallest.count < nwant || d2 < smallest[smallest.count - 1] {
                                    if !smallest.contains(d2) {
                                        smallest.append(d2)
                                        smallest.sort()
                                        if smallest.count > nwant { smallest.removeLast() }
                                    }
                                }
                            }
                            map[i] = -Int32(neighbours.count + 1)
                            neighbours.append(UInt16(0))
                            let start = neighbours.count
                            for distance in smallest {
                                for j in 0..<kgrid.count where distances[j] == distance {
                                    neighbours.append(UInt16(j))
                                }
                            }
                            neighbours[start - 1] = UInt16(neighbours.count - start)
                        }
                    }
                }
            }
        }
        self.levels = levels
        self.points = levels.map { Float(2 * Int($0) + 1) }
        self.map = map
        self.neighbours = neighbours
    }

    /// ggml's `iq2_find_best_neighbour` / `iq3_find_best_neighbour`: among the neighbours listed at
    /// `-(map[u]) − 1`, the first point minimizing `Σ weight·(scale·q − x)²`; writes its levels to `L`
    /// and returns its index. Where ggml aborts (every distance NaN or ≥ FLT_MAX, from non-finite
    /// input), the first neighbour.
    @inline(__always)
    func bestNeighbour(_ entry: Int32, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, scale: Float,
                       _ L: UnsafeMutablePointer<Int8>) -> Int {
        let list = Int(-entry - 1)
        var best = Float.greatestFiniteMagnitude
        var index = Int(neighbours[list + 1])
        points.withUnsafeBufferPointer { points in
            neighbours.withUnsafeBufferPointer { neighbours in
                for n in 1...Int(neighbours[list]) {
                    let candidate = Int(neighbours[list &+ n])
                    let q = points.baseAddress! + candidate &* dimensions
                    var d2: Float = 0
                    for i in 0..<dimensions {
                        let diff = scale * q[i] - x[i]
                        d2 += weight[i] * diff * diff
                    }
                    if d2 < best {
                        best = d2
                        index = candidate
                    }
                }
            }
        }
        for i in 0..<dimensions {
            L[i] = levels[index &* dimensions &+ i]
        }
        return index
    }
}

/// The IQ2_XXS search tables (`iq2xs_init_impl(GGML_TYPE_IQ2_XXS)`).
let iq2xxsSearch = LatticeSearch(kgrid: iq2xxsLevels, dimensions: 8, bits: 2, mapSize: 43692, nwant: 2)
/// The IQ2_XS search tables (`iq2xs_init_impl(GGML_TYPE_IQ2_XS)`).
let iq2xsSearch = LatticeSearch(kgrid: iq2xsLevels, dimensions: 8, bits: 2, mapSize: 43692, nwant: 2)
/// The IQ2_S search tables (`iq2xs_init_impl(GGML_TYPE_IQ2_S)`).
let iq2sSearch = LatticeSearch(kgrid: iq2sLevels, dimensions: 8, bits: 2, mapSize: 43692, nwant: 1)
/// The IQ1_S and IQ1_M search tables (`iq2xs_init_impl(GGML_TYPE_IQ1_S)`).
let iq1sSearch = LatticeSearch(kgrid: iq1sLevels, dimensions: 8, bits: 2, mapSize: 43692, nwant: 3)
/// The IQ3_XXS search tables (`iq3xs_init_impl(256)`).
let iq3xxsSearch = LatticeSearch(kgrid: iq3xxsLevels, dimensions: 4, bits: 3, mapSize: 4096, nwant: 2)
/// The IQ3_S search tables (`iq3xs_init_impl(512)`).
let iq3sSearch = LatticeSearch(kgrid: iq3sLevels, dimensions: 4, bits: 3, mapSize: 4096, nwant: 3)
