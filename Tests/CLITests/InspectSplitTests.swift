import Foundation
import GGUF
import Testing

/// `inspect --all` on a shard of a split model lists the whole model; without it, just the shard.
extension CLITests {
    static let splitShard = root.appendingPathComponent("Fixtures/gguf/adapter-x-split-00002-of-00003.gguf").path

    @Test func inspectAllListsEveryShard() throws {
        let model = try GGUFModel(path: Self.splitShard)
        let all = try Self.run(["inspect", "--all", "--json", Self.splitShard])
        #expect(all.status == 0, "\(all.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        #expect((json["shards"] as? [String])?.count == 3)
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.map { $0["name"] as? String } == model.tensors.map(\.name))
        #expect(Set(tensors.compactMap { $0["shard"] as? Int }) == [1, 2, 3])
        let metadata = try #require(json["metadata"] as? [String: Any])
        #expect(metadata["split.no"] == nil)

        let text = try Self.run(["inspect", "--all", Self.splitShard])
        #expect(text.status == 0 && text.stdout.contains("3 shards (the whole model)"))
        #expect(text.stdout.contains("\(model.tensors.count) tensors"))

        // The default stays one file: the second shard alone, split keys included.
        let one = try Self.run(["inspect", "--json", Self.splitShard])
        let shard = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        let shardTensors = try #require(shard["tensors"] as? [[String: Any]])
        #expect(shardTensors.count == model.files[1].tensors.count && shardTensors.count < model.tensors.count)
        #expect((shard["metadata"] as? [String: Any])?["split.no"] as? Int == 1)
    }
}
