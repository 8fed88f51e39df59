/// Every merge method by its mergekit name.
public enum MergeMethods {
    public static let all: [any MergeMethod] = [
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
        // Averaging, interpolation and geometric methods.
        Linear(),
        SLERP(),
        NuSLERP(),
        MultiSLERP(),
        Karcher(),
        ModelStock(),
        NearSwap(),
        ArceeFusion(),
        Passthrough(),
    ]

    public static func named(_ name: String) -> (any MergeMethod)? {
        all.first { $0.name == name }
    }
}
