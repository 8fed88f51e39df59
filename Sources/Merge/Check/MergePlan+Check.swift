extension MergePlan {
    /// The method the plan's merge jobs run (nil for plans of copies only).
    var mergeMethod: (any MergeMethod)? {
        for job in jobs { if case let .merge(_, _, _, _, method) = job.operation { return method } }
        return nil
    }

    /// Whether the method merges task vectors (model − base), so inherits their rounding noise:
    /// task_arithmetic, ties, dare_*, breadcrumbs*, della*, sce.
    public var mergesTaskVectors: Bool { mergeMethod is GeneralizedTaskArithmetic || mergeMethod is SCE }

    /// Elements a tensor that `inputWarnings` samples (``RowSample``): a quarter of `check`'s.
    static let warningBudget = RowSample.defaultBudget / 4

    /// What `merge` warns about before merging (it does not refuse): the sampled ``ModelCheck`` of the
    /// plan's inputs (those without an adapter applied on the fly) against its base, or the first
    /// input. Passthrough stacks layers rather than combining weights, so it is not checked.
    ///
    /// The warnings rest on sums over the whole model, so they sample a quarter of what `check` does
    /// per tensor (``warningBudget``; still 3.6 M weights a model over a 1B's 113 weight tensors), and
    /// every merge waits that much less before its first write.
    public func inputWarnings(threads: Int) throws(MergeError) -> [String] {
        guard let method = mergeMethod, !(method is Passthrough) else { return [] }
        let baseInput = jobs.lazy.compactMap { job -> Int? in
            if case let .merge(sources, baseIndex?, _, _, _) = job.operation { return sources[baseIndex].input }
            return nil
        }.first
        let checked = inputs.indices.filter { inputs[$0].adapter == nil }
        guard checked.count >= 2 else { return [] }
        let report = try ModelCheck.run(checked.map { inputs[$0].model }, baseIndex: baseInput.flatMap { checked.firstIndex(of: $0) },
                                        budget: Self.warningBudget, threads: threads)
        return report.mergeWarnings(taskVectorMethod: mergesTaskVectors)
    }
}
