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
        var neighbours: [UInt16] = []
        var distances = [Int](repeating: 0, count: kgrid.count)
        // Squared distances are at most dimensions · (2·mask)².
        let maxDistance = dimensions * 4 * mask * mask
        var histogram = [Int](repeating: 0, count: maxDistance + 1)
        var position = [Int](repeating: 0, count: dimensions)
        for i in 0..<mapSize where map[i] < 0 {
            for k in 0..<dimensions {
                position[k] = (i >> (bits * k)) & mask
            }
            for b in histogram.indices { histogram[b] = 0 }
            for j in 0..<kgrid.count {
                var d2 = 0
                for k in 0..<dimensions {
                    let diff = 2 * (Int(levels[j * dimensions + k]) - position[k])
                    d2 += diff * diff
                }
                distances[j] = d2
                histogram[d2] += 1
            }
            map[i] = -Int32(neighbours.count + 1)
            let start = neighbours.count
            neighbours.append(0)
            var have = 0
            for distance in 0...maxDistance where histogram[distance] > 0 && have < nwant {
                have += 1
                for j in 0..<kgrid.count where distances[j] == distance {
                    neighbours.append(UInt16(j))
                }
            }
            neighbours[start] = UInt16(neighbours.count - start - 1)
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
