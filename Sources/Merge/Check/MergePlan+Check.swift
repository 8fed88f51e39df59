extension MergePlan {
    /// Whether the method merges task vectors (model − base), so inherits their rounding noise:
    /// task_arithmetic, ties, dare_*, breadcrumbs*, della*, sce.
    public var mergesTaskVectors: Bool { method is GeneralizedTaskArithmetic || method is SCE }

    /// What `merge` warns about before merging (it does not refuse): the sampled ``ModelCheck`` of the
    /// plan's inputs (those without an adapter applied on the fly) against its base, or the first
    /// input. Passthrough stacks layers rather than combining weights, so it is not checked.
    public func inputWarnings(threads: Int) throws(MergeError) -> [String] {
        guard let method, !(method is Passthrough) else { return [] }
        let baseInput = jobs.lazy.compactMap { job -> Int? in
            if case let .merge(sources, baseIndex?, _, _) = job.operation { return sources[baseIndex].input }
            return nil
        }.first
        let checked = inputs.indices.filter { inputs[$0].adapter == nil }
        guard checked.count >= 2 else { return [] }
        let report = try ModelCheck.run(checked.map { inputs[$0].model }, baseIndex: baseInput.flatMap { checked.firstIndex(of: $0) },
                                        threads: threads)
        return report.mergeWarnings(taskVectorMethod: mergesTaskVectors)
    }
}
