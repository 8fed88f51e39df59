/// Every merge method by its mergekit name.
public enum MergeMethods {
    public static let all: [any MergeMethod] = [
        // Each method group adds its methods here.
    ]

    public static func named(_ name: String) -> (any MergeMethod)? {
        all.first { $0.name == name }
    }
}
