/// Every merge method by its mergekit name.
public enum MergeMethods {
    public static let all: [any MergeMethod] = [
        // Each method group adds its methods here.
        // Task-vector family (mergekit's GeneralizedTaskArithmeticMerge instances) and SCE.
        GeneralizedTaskArithmetic.taskArithmetic,
        GeneralizedTaskArithmetic.ties,
        GeneralizedTaskArithmetic.dareTies,
        GeneralizedTaskArithmetic.dareLinear,
        GeneralizedTaskArithmetic.breadcrumbs,
        GeneralizedTaskArithmetic.breadcrumbsTies,
        GeneralizedTaskArithmetic.della,
        GeneralizedTaskArithmetic.dellaLinear,
        SCE(),
        // Geometric and averaging methods.
        Linear(),
        Slerp(),
        Nuslerp(),
        Passthrough(),
        ModelStock(),
        Multislerp(),
        Karcher(),
        Nearswap(),
        ArceeFusion(),
    ]

    public static func named(_ name: String) -> (any MergeMethod)? {
        all.first { $0.name == name }
    }
}
