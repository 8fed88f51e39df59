import Foundation

/// A multi-document configuration run as mergekit-mega runs one: the documents merge in order, a
/// document's `name:` can be a `model:` (or `base_model:`, tokenizer source, …) of the documents
/// after it, each such intermediate is written to `<intermediates>/<name>.gguf`, and the last document
/// is the output.
public struct MultiDocumentMerge: Sendable {
    public var documents: [MergeConfig]

    /// Every non-empty document of the file at `path` (a single-document file gives one).
    public static func load(path: String) throws(ConfigError) -> MultiDocumentMerge {
        let text = try YAML.read(path: path)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var documents: [MergeConfig] = []
        for root in try YAML.parseAll(text, file: path) where !root.isNull {
            documents.append(try MergeConfig(root, file: path, directory: directory))
        }
        if documents.isEmpty { throw .invalid(file: path, at: nil, message: "the file holds no merge configuration") }
        for (index, document) in documents.enumerated().dropLast() where document.name == nil {
            throw .invalid(file: path, at: document.mergeMethodMark, message:
                "document \(index + 1) of \(documents.count) has no 'name': only the last document's result is the output, earlier ones must be named to be used")
        }
        var seen: Set<String> = []
        for document in documents.dropLast() where !seen.insert(document.name!).inserted {
            throw .invalid(file: path, at: document.mergeMethodMark, message: "two documents are named '\(document.name!)'")
        }
        return MultiDocumentMerge(documents: documents)
    }

    /// Document `index` with the names of earlier documents resolved to their files in `intermediates`.
    public func resolved(_ index: Int, intermediates: String) -> MergeConfig {
        let earlier = Set(documents[..<index].compactMap(\.name))
        return documents[index].mapModels { reference in
            guard reference.adapter == nil, earlier.contains(reference.text) else { return reference }
            return ModelReference(path: Self.intermediatePath(reference.text, in: intermediates), text: reference.text)
        }
    }

    /// Where the document named `name` is written.
    public static func intermediatePath(_ name: String, in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name + ".gguf").path
    }
}
