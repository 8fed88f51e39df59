/// Every merge method by its mergekit name.
public enum MergeMethods {
    public static let all: [any MergeMethod] = [
        // Task-vector family (mergekit's GeneralizedTaskArithmeticMerge instances), SCE and RAM.
        GeneralizedTaskArithmetic.taskArithmetic,
        GeneralizedTaskArithmetic.ties,
        GeneralizedTaskArithmetic.dareTies,
        GeneralizedTaskArithmetic.dareLinear,
        GeneralizedTaskArithmetic.breadcrumbs,
        GeneralizedTaskArithmetic.breadcrumbsTies,
        GeneralizedTaskArithmetic.della,
        GeneralizedTaskArithmetic.dellaLinear,
        SCE(),
        RAM.ram,
        RAM.ramplusTL,
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
