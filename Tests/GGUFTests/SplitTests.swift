import Foundation
import Testing
@testable import GGUF

@Suite struct SplitTests {
    static let ggufSplitShards = (1...3).map { "adapter-x-split-0000\($0)-of-00003.gguf" }

    @Test func splitByTensorsIsByteIdenticalToLlamaGGUFSplit() throws {
        // Fixtures made by `llama-gguf-split --split --split-max-tensors 10 adapter-x.gguf adapter-x-split`.
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = try GGUFFile(path: Fixture.path("adapter-x.gguf"))
        let w = try rewrite(file, to: dir.file("adapter-x-split.gguf"), split: .maxTensors(10))
        #expect(w.outputPaths == Self.ggufSplitShards.map(dir.file))
        #expect(dir.contents() == Self.ggufSplitShards)
        for name in Self.ggufSplitShards {
            #expect(sameBytes(dir.file(name), Fixture.path(name)), "\(name)")
        }
    }

    /// `fileOffset(ofTensor:)` is where each tensor's data starts in its shard, as the written files say.
    @Test func fileOffsetsAreWhereTheShardsPutTheData() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = try GGUFFile(path: Fixture.path("adapter-x.gguf"))
        for split in [nil, SplitPolicy.maxTensors(10)] {
            let w = try rewrite(file, to: dir.file(split == nil ? "whole.gguf" : "split.gguf"), split: split)
            let written = try w.outputPaths.map { try GGUFFile(path: $0) }
            let expected = written.flatMap { shard in shard.tensors.map { shard.dataOffset + $0.offset } }
            #expect(w.tensors.indices.map(w.fileOffset(ofTensor:)) == expected)
            #expect(expected.allSatisfy { $0 % 32 == 0 })
        }
    }

    @Test(arguments: [1, 2, 3])
    func modelOverLlamaGGUFSplitShards(_ shard: Int) throws {
        let model = try GGUFModel(path: Fixture.path(Self.ggufSplitShards[shard - 1]))
        let original = try GGUFFile(path: Fixture.path("adapter-x.gguf"))
        #expect(model.isSplit && model.files.count == 3)
        #expect(model.path == Fixture.path(Self.ggufSplitShards[0]))
        #expect(model.files.map { $0.tensors.count } == [10, 10, 8])
        #expect(model.metadata == original.metadata)
        #expect(model.tensors.map(\.descriptor) == original.tensors.map(\.descriptor))
        for t in original.tensors {
            #expect(try withExtendedLifetime(model) { Array(try model.bytes(of: t.name)) } == original.withBytes(of: t) { Array($0) })
            #expect(model.tensor(named: t.name)?.descriptor == t.descriptor)
        }
        #expect(throws: GGUFError.tensorNotFound(path: model.path, name: "nope")) { try model.bytes(of: "nope") }
        // Shard metadata as gguf-split leaves it.
        #expect(model.files[0].metadata.keys.suffix(3) == ["split.no", "split.tensors.count", "split.count"])
        #expect(model.files[1].metadata.keys == ["split.no", "split.tensors.count", "split.count"])
        #expect(model.files[2].metadata["split.no"] == .uint16(2))
        #expect(model.files[2].metadata["split.tensors.count"] == .int32(28))
    }

    @Test func splitBySizeRoundTrips() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let original = try GGUFFile(path: Fixture.path("base-Q8_0.gguf"))
        let limit = 40_000
        let w = try rewrite(original, to: dir.file("m.gguf"), split: .maxBytes(limit))
        #expect(w.outputPaths.count > 2)
        let model = try GGUFModel(path: w.outputPaths[0])
        #expect(model.files.count == w.outputPaths.count)
        for f in model.files {
            let padded = f.tensors.reduce(0) { $0 + ($1.byteCount + 31) / 32 * 32 }
            #expect(padded <= limit || f.tensors.count == 1)
        }
        // gguf-split's rule: a shard is closed only when the next tensor would overflow it.
        for (f, next) in zip(model.files, model.files.dropFirst()) {
            let padded = f.tensors.reduce(0) { $0 + ($1.byteCount + 31) / 32 * 32 }
            #expect(padded + (next.tensors[0].byteCount + 31) / 32 * 32 > limit)
        }
        #expect(model.metadata == original.metadata)
        #expect(model.tensors.map(\.descriptor) == original.tensors.map(\.descriptor))

        // Merging the shards back gives the original file, byte for byte.
        let merged = dir.file("merged.gguf")
        let m = try GGUFWriter(path: merged, metadata: model.metadata, tensors: model.tensors.map(\.descriptor),
                               protecting: model.files.map(\.path))
        for t in model.tensors { try model.withBytes(of: t) { try m.append($0) } }
        try m.finish()
        #expect(sameBytes(merged, original.path))
    }

    @Test func customAlignmentIsRepeatedInLaterShards() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let original = try GGUFFile(path: Fixture.path("all-types.gguf"))
        #expect(original.alignment == 64)
        let w = try rewrite(original, to: dir.file("t"), split: .maxTensors(1))
        #expect(w.outputPaths == (1...4).map { dir.file("t-0000\($0)-of-00004.gguf") })
        let model = try GGUFModel(path: w.outputPaths[0])
        #expect(model.files.allSatisfy { $0.alignment == 64 })
        #expect(model.files[1].metadata.keys == ["general.alignment", "split.no", "split.tensors.count", "split.count"])
        #expect(model.metadata == original.metadata)
    }

    @Test func singleFileAndSplitCountOne() throws {
        let model = try GGUFModel(path: Fixture.path("adapter-x.gguf"))
        #expect(!model.isSplit && model.files.count == 1 && model.tensors.count == 28)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let w = try rewrite(model.files[0], to: dir.file("one.gguf"), split: .maxTensors(100))
        #expect(w.outputPaths == [dir.file("one-00001-of-00001.gguf")])
        let one = try GGUFModel(path: w.outputPaths[0])
        #expect(one.files.count == 1 && one.metadata == model.metadata && one.tensors == model.tensors)
    }

    /// Writes a shard by hand with the given split keys and tensors named `names` (4 F32 each).
    static func shard(_ path: String, no: Int, count: Int, total: Int, names: [String]) throws {
        let m: Metadata = ["split.no": .uint16(UInt16(no)), "split.count": .uint16(UInt16(count)),
                           "split.tensors.count": .int32(Int32(total))]
        let w = try GGUFWriter(path: path, metadata: m, tensors: names.map { TensorDescriptor(name: $0, shape: [4], type: .f32) })
        for _ in names { try w.append([UInt8](repeating: 0, count: 16)) }
        try w.finish()
    }

    @Test func inconsistentShards() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let p1 = dir.file("m-00001-of-00002.gguf"), p2 = dir.file("m-00002-of-00002.gguf")

        try Self.shard(p1, no: 0, count: 2, total: 2, names: ["a"])
        #expect(throws: GGUFError.cannotOpen(path: p2, reason: "No such file or directory")) { try GGUFModel(path: p1) }

        try Self.shard(p2, no: 0, count: 2, total: 2, names: ["b"])
        #expect(throws: GGUFError.invalidSplit(path: p2, reason: "says it is shard 1 of 2, expected shard 2 of 2")) { try GGUFModel(path: p1) }

        try Self.shard(p2, no: 1, count: 2, total: 2, names: ["a"])
        #expect(throws: GGUFError.invalidSplit(path: p2, reason: "tensor 'a' is also in \(p1)")) { try GGUFModel(path: p1) }

        try Self.shard(p2, no: 1, count: 2, total: 3, names: ["b"])
        #expect(throws: GGUFError.invalidSplit(path: p2, reason: "split.tensors.count is 3 but the shards hold 2 tensors")) { try GGUFModel(path: p1) }

        try Self.shard(p2, no: 1, count: 2, total: 2, names: ["b"])
        #expect(try GGUFModel(path: p2).tensors.map(\.name) == ["a", "b"])

        let odd = dir.file("odd.gguf")
        try Self.shard(odd, no: 0, count: 2, total: 2, names: ["a"])
        #expect(throws: GGUFError.invalidSplit(path: odd, reason: "is shard 1 of 2 but its name does not end in '-00001-of-00002.gguf'")) { try GGUFModel(path: odd) }

        try Self.shard(odd, no: 2, count: 2, total: 2, names: ["a"])
        #expect(throws: GGUFError.invalidSplit(path: odd, reason: "split.count is 2 but split.no is 2")) { try GGUFModel(path: odd) }
    }

    @Test func shardNames() {
        #expect(SplitPolicy.shardPath(prefix: "out/model", index: 0, count: 3) == "out/model-00001-of-00003.gguf")
        #expect(SplitPolicy.prefix(forOutput: "a/b.gguf") == "a/b" && SplitPolicy.prefix(forOutput: "a/b") == "a/b")
        #expect(SplitPolicy.prefix(ofShard: "x-00002-of-00010.gguf", index: 1, count: 10) == "x")
        #expect(SplitPolicy.prefix(ofShard: "x-00002-of-00010.gguf", index: 0, count: 10) == nil)
        #expect(SplitPolicy.maxTensors(2).shardRanges(byteCounts: [1, 1, 1, 1, 1], alignment: 32) == [0..<2, 2..<4, 4..<5])
        #expect(SplitPolicy.maxBytes(64).shardRanges(byteCounts: [10, 10, 100, 1], alignment: 32) == [0..<2, 2..<3, 3..<4])
    }
}
