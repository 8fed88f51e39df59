// libFuzzer entry point over the YAML reader and the merge-config schema: any text must parse or
// throw a ConfigError, never trap. Built by scripts/fuzz/run.sh against the GGUF, Quant and Merge modules.
import Merge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let config = try? MergeConfig.parse(text, file: "fuzz.yml", directory: "/nonexistent"),
          let method = try? config.method() else { return 0 }
    _ = try? config.validate(for: method)
    return 0
}
