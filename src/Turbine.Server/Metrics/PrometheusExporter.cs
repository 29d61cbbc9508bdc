using Turbine.Core.Execution;
using Turbine.Traffic;

namespace Turbine.Server.Metrics;

/// <summary>
/// Renders <c>/metrics</c> from the same per-version statistics that the statistics endpoints report, so the two
/// always agree. Names follow Prometheus conventions (base units, <c>_total</c> on counters) so that
/// <c>promtool check metrics</c> passes; docs/OPERATIONS.md maps them to Triton's <c>nv_inference_*</c> names.
/// Labels are model names and versions that are loaded, never request input (SECURITY.md A14).
/// </summary>
internal sealed class PrometheusExporter(
    InferenceService inference, Core.State.StateStoreHealth stateStore, Core.State.IStateStore store, Core.Observation.InferenceTap tap,
    Transport.TransportBlockPoolFactory transportBuffers, Core.Lifecycle.ModelManager modelManager, Turbine.Monitoring.MonitoringHub monitoring,
    Caching.RedisResponseStore? redis = null, Turbine.Monitoring.Cost.CostLedger? costs = null, Core.Lifecycle.ModelPager? pager = null)
{
    private const double NanosecondsPerSecond = 1e9;

    /// <summary>Batch-size histogram bounds, in rows.</summary>
    private static readonly double[] BatchBounds = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    private static readonly double[] DurationBounds = ToSeconds(DurationCounter.BucketBounds);

    private readonly Lock _gate = new();

    public string Scrape()
    {
        lock (_gate)
        {
            inference.Statistics(null, null, out var models);
            var writer = new PrometheusTextWriter();
            WriteCounters(writer, models);
            WriteGauges(writer, models);
            WriteDurations(writer, models);
            WriteBatchSizes(writer, models);
            WriteRoutes(writer, inference.Routes);
            WritePipelines(writer, inference.Pipelines);
            WriteGeneration(writer, RunnersOf<Llm.Serving.GenerationRunner>(models));
            WriteRemote(writer, RunnersOf<Remote.RemoteRunner>(models));
            MonitoringMetrics.Write(writer, models, monitoring, costs);
            if (redis is not null)
            {
                writer.Family("turbine_cache_redis_errors_total", "counter", "Redis cache lookups and writes that failed or timed out (each lookup then counts as a miss).");
                writer.Sample("turbine_cache_redis_errors_total", [], redis.Errors);
            }
            WriteStateStore(writer, inference.Routes);
            WriteModelLoads(writer);
            writer.Family("turbine_observer_observations_total", "counter", "Completed requests copied for the inference observers.");
            writer.Sample("turbine_observer_observations_total", [], tap.Sampled);
            writer.Family("turbine_observer_dropped_total", "counter", "Observations dropped because the inference observers were behind.");
            writer.Sample("turbine_observer_dropped_total", [], tap.Dropped);
            writer.Family("turbine_pinned_pool_bytes", "gauge", "Bytes of tensor buffers the pinned pool keeps for reuse (buffers in use not counted).");
            writer.Sample("turbine_pinned_pool_bytes", [], PinnedBufferPool.Shared.PooledBytes);
            writer.Family("turbine_transport_pool_bytes", "gauge", "Bytes of socket buffers Kestrel's transports keep for reuse (buffers in use not counted).");
            writer.Sample("turbine_transport_pool_bytes", [], transportBuffers.PooledBytes);
            ProcessMetrics.Write(writer);
            return writer.ToString();
        }
    }

    private static void WriteCounters(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models)
    {
        Counter(writer, models, "turbine_inference_request_success_total", "Successful inference requests.", s => s.Success.Count);
        Counter(writer, models, "turbine_inference_request_failure_total", "Failed inference requests, refused ones included.", s => s.Fail.Count);
        Counter(writer, models, "turbine_inference_count_total", "Inferences performed (a batch of N rows counts N).", s => s.InferenceCount);
        Counter(writer, models, "turbine_inference_exec_count_total", "Model executions (a batch counts 1).", s => s.ExecutionCount);
        Counter(writer, models, "turbine_cache_hit_total", "Requests answered from the response cache.", s => s.CacheHit.Count);
        Counter(writer, models, "turbine_cache_miss_total", "Response cache lookups that found nothing.", s => s.CacheMiss.Count);
    }

    private void WriteStateStore(PrometheusTextWriter writer, Traffic.RouteTable routes)
    {
        long journal = 0;
        foreach (var definition in routes.All)
        {
            if (routes.TryGet(definition.Name, out var route) && route.Canary is { } canary)
            {
                journal += canary.JournalFailures;
            }
        }

        writer.Family("turbine_state_store_errors_total", "counter", "Reads and writes of shared state (route figures, rollout journal, other replicas' changes) that failed; each is retried.");
        writer.Sample("turbine_state_store_errors_total", [], stateStore.Failures + journal);
        writer.Family("turbine_state_store_leader", "gauge", "1 when this replica takes the decisions taken once for the service (judging canary rollouts).");
        writer.Sample("turbine_state_store_leader", [], store.IsLeader ? 1 : 0);
    }

    /// <summary>Requests each route sent to each of its variants; labels come from the route table only.</summary>
    /// <summary>Hedged routes: requests also sent to the hedge target, and those it answered first.</summary>
    private static void WriteHedges(PrometheusTextWriter writer, Traffic.RouteTable routes)
    {
        var hedged = routes.All.Select(d => routes.TryGet(d.Name, out var route) && route.Hedging is { } hedging ? (d.Name, Hedging: hedging) : default).Where(r => r.Hedging is not null).ToList();
        writer.Family("turbine_route_hedges_total", "counter", "Requests a route also sent to its hedge target because the variant was slower than the percentile.");
        foreach (var (route, hedging) in hedged)
        {
            writer.Sample("turbine_route_hedges_total", [("route", route)], hedging.Hedges);
        }

        writer.Family("turbine_route_hedge_wins_total", "counter", "Hedged requests the hedge target answered first (the variant's call was cancelled).");
        foreach (var (route, hedging) in hedged)
        {
            writer.Sample("turbine_route_hedge_wins_total", [("route", route)], hedging.Wins);
        }
    }

    private static void WriteRoutes(PrometheusTextWriter writer, Traffic.RouteTable routes)
    {
        writer.Family("turbine_route_requests_total", "counter", "Requests a route sent to each of its variants since the route was last set.");
        foreach (var definition in routes.All)
        {
            if (!routes.TryGet(definition.Name, out var route))
            {
                continue;
            }

            for (var i = 0; i < definition.Variants.Count; i++)
            {
                writer.Sample("turbine_route_requests_total", [("route", definition.Name), ("variant", definition.Variants[i].Name)], route.Served(i));
            }
        }

        WriteShadows(writer, routes);
        WriteHedges(writer, routes);

        writer.Family("turbine_route_circuit_state", "gauge", "Each variant's circuit breaker: 0 closed, 1 open, 2 half-open (probing), 3 isolated.");
        foreach (var definition in routes.All.Where(r => r.Resilience?.CircuitBreaker is not null))
        {
            if (routes.TryGet(definition.Name, out var route))
            {
                for (var i = 0; i < definition.Variants.Count; i++)
                {
                    var state = route.Circuit(i) switch
                    {
                        Polly.CircuitBreaker.CircuitState.Open => 1,
                        Polly.CircuitBreaker.CircuitState.HalfOpen => 2,
                        Polly.CircuitBreaker.CircuitState.Isolated => 3,
                        _ => 0,
                    };
                    writer.Sample("turbine_route_circuit_state", [("route", definition.Name), ("variant", definition.Variants[i].Name)], state);
                }
            }
        }

        WriteRollouts(writer, routes);
    }

    /// <summary>How each route's shadow compares with its primary: counts by outcome, output differences and both latencies.</summary>
    private static void WriteShadows(PrometheusTextWriter writer, Traffic.RouteTable routes)
    {
        var shadows = new List<(string Route, Traffic.ShadowFigures Figures)>();
        foreach (var definition in routes.All.Where(r => r.Shadow is not null))
        {
            if (routes.TryGet(definition.Name, out var route))
            {
                shadows.Add((definition.Name, route.Shadow.Snapshot()));
            }
        }

        writer.Family("turbine_shadow_requests_total", "counter",
            "Requests a route mirrored to its shadow, by outcome (mirrored, dropped (queue full), shed (CPU over max_cpu), failed, compared, exact_match, top1_compared, top1_agreed).");
        foreach (var (route, shadow) in shadows)
        {
            foreach (var (outcome, count) in new[]
            {
                ("mirrored", shadow.Mirrored), ("dropped", shadow.Dropped), ("shed", shadow.Shed), ("failed", shadow.Failed), ("compared", shadow.Compared),
                ("exact_match", shadow.ExactMatches), ("top1_compared", shadow.Top1Compared), ("top1_agreed", shadow.Top1Agreed),
            })
            {
                writer.Sample("turbine_shadow_requests_total", [("route", route), ("outcome", outcome)], count);
            }
        }

        writer.Family("turbine_shadow_abs_diff", "gauge", "Absolute difference between shadow and primary outputs over the compared requests: the largest (stat=max) and the mean (stat=mean).");
        foreach (var (route, shadow) in shadows)
        {
            writer.Sample("turbine_shadow_abs_diff", [("route", route), ("stat", "max")], shadow.MaxAbsDiff);
            writer.Sample("turbine_shadow_abs_diff", [("route", route), ("stat", "mean")], shadow.MeanAbsDiff);
        }

        writer.Family("turbine_shadow_latency_seconds", "gauge", "Mean latency of the compared requests, on the primary and on the shadow.");
        foreach (var (route, shadow) in shadows)
        {
            writer.Sample("turbine_shadow_latency_seconds", [("route", route), ("side", "primary")], shadow.PrimaryMeanSeconds);
            writer.Sample("turbine_shadow_latency_seconds", [("route", route), ("side", "shadow")], shadow.ShadowMeanSeconds);
        }
    }

    /// <summary>Each canary rollout: where it stands, its decisions, and the current step's figures that the gates judge.</summary>
    private static void WriteRollouts(PrometheusTextWriter writer, Traffic.RouteTable routes)
    {
        var rollouts = new List<Traffic.Canary.CanaryRollout>();
        foreach (var definition in routes.All)
        {
            if (routes.TryGet(definition.Name, out var route) && route.Canary is { } rollout)
            {
                rollouts.Add(rollout);
            }
        }

        writer.Family("turbine_canary_weight_percent", "gauge", "The canary's share of its route's traffic, in percent.");
        foreach (var rollout in rollouts)
        {
            writer.Sample("turbine_canary_weight_percent", [("route", rollout.Route)], rollout.CanaryPercent);
        }

        writer.Family("turbine_canary_state", "gauge", "1 for the state a rollout is in (running, paused, promoted, rolled_back), 0 for the others.");
        foreach (var rollout in rollouts)
        {
            foreach (var state in Enum.GetValues<Traffic.Canary.CanaryState>())
            {
                writer.Sample("turbine_canary_state", [("route", rollout.Route), ("state", Traffic.Canary.CanaryJson.StateName(state))], rollout.State == state ? 1 : 0);
            }
        }

        writer.Family("turbine_canary_decisions_total", "counter", "Rollout decisions since the route was set, by action (start, promote, complete, rollback, pause, resume, restore).");
        foreach (var rollout in rollouts)
        {
            foreach (var (action, count) in rollout.DecisionCounts)
            {
                writer.Sample("turbine_canary_decisions_total", [("route", rollout.Route), ("action", action)], count);
            }
        }

        var figures = rollouts.Select(r => (r.Route, Figures: r.Figures())).ToList();
        writer.Family("turbine_canary_step_requests", "gauge", "Canary requests in the rollout's current step.");
        foreach (var (route, step) in figures)
        {
            writer.Sample("turbine_canary_step_requests", [("route", route)], step.Requests);
        }

        writer.Family("turbine_canary_step_error_ratio", "gauge", "The canary's error rate in the current step, as the error-rate gate sees it.");
        foreach (var (route, step) in figures)
        {
            writer.Sample("turbine_canary_step_error_ratio", [("route", route)], step.ErrorRate);
        }

        writer.Family("turbine_canary_step_p99_seconds", "gauge", "The canary's p99 latency in the current step, as the latency gate sees it.");
        foreach (var (route, step) in figures)
        {
            writer.Sample("turbine_canary_step_p99_seconds", [("route", route)], step.P99Milliseconds / 1000);
        }
    }

    private static void WriteGauges(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models)
    {
        writer.Family("turbine_inference_pending_requests", "gauge", "Requests waiting in the queue (the queue depth).");
        foreach (var model in models)
        {
            writer.Sample("turbine_inference_pending_requests", Labels(model), model.QueuedRequests);
        }

        writer.Family("turbine_inference_queue_capacity", "gauge", "Requests the version's queue holds at most (max_queue_size); more are refused with 503.");
        foreach (var model in models)
        {
            writer.Sample("turbine_inference_queue_capacity", Labels(model), model.Config.MaxQueueSize);
        }

        writer.Family("turbine_inference_executing_requests", "gauge", "Requests inside a model execution now (in flight).");
        foreach (var model in models)
        {
            writer.Sample("turbine_inference_executing_requests", Labels(model), model.ExecutingRequests);
        }
    }

    private static void WriteDurations(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models)
    {
        Duration(writer, models, "turbine_inference_request_duration_seconds", "End-to-end time of successful requests, queue included.", s => s.Success);
        Duration(writer, models, "turbine_inference_queue_duration_seconds", "Time requests waited in the queue.", s => s.Queue);
        Duration(writer, models, "turbine_inference_compute_input_duration_seconds", "Time spent assembling batch inputs, per execution.", s => s.ComputeInput);
        Duration(writer, models, "turbine_inference_compute_infer_duration_seconds", "Time spent inside the model, per execution.", s => s.ComputeInfer);
        Duration(writer, models, "turbine_inference_compute_output_duration_seconds", "Time spent slicing and copying outputs, per execution.", s => s.ComputeOutput);
    }

    private static void WriteBatchSizes(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models)
    {
        const string Name = "turbine_inference_batch_size";
        writer.Family(Name, "histogram", "Rows per model execution.");
        Span<long> counts = stackalloc long[BatchBounds.Length + 1];
        foreach (var model in models)
        {
            counts.Clear();
            double rows = 0;
            foreach (var (size, batch) in model.Statistics.Batches)
            {
                var executions = batch.ComputeInfer.Count;
                var index = Array.BinarySearch(BatchBounds, size);
                counts[index >= 0 ? index : ~index] += executions;
                rows += (double)size * executions;
            }

            writer.Histogram(Name, Labels(model), BatchBounds, counts, rows);
        }
    }

    private static void Counter(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models, string name, string help, Func<ModelStatistics, long> read)
    {
        writer.Family(name, "counter", help);
        foreach (var model in models)
        {
            writer.Sample(name, Labels(model), read(model.Statistics));
        }
    }

    private static void Duration(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models, string name, string help, Func<ModelStatistics, DurationCounter> read)
    {
        writer.Family(name, "histogram", help);
        foreach (var model in models)
        {
            DurationHistogram(writer, name, Labels(model), read(model.Statistics));
        }
    }

    private static void DurationHistogram(PrometheusTextWriter writer, string name, ReadOnlySpan<(string Name, string Value)> labels, DurationCounter counter)
    {
        Span<long> counts = stackalloc long[DurationBounds.Length + 1];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = counter.BucketCount(i);
        }

        writer.Histogram(name, labels, DurationBounds, counts, counter.Nanoseconds / NanosecondsPerSecond);
    }

    /// <summary>How long model loads took, by model; with paging, the budget, what holds it, and loads, evictions and refusals.</summary>
    private void WriteModelLoads(PrometheusTextWriter writer)
    {
        const string Loads = "turbine_model_load_duration_seconds";
        writer.Family(Loads, "histogram", "Time each model load took (reloads, on-demand loads and failed loads included).");
        foreach (var (model, counter) in modelManager.LoadTimes.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            DurationHistogram(writer, Loads, [("model", model)], counter);
        }

        if (pager is null)
        {
            return;
        }

        var (host, gpu) = pager.ResidentBytes();
        writer.Family("turbine_model_paging_budget_bytes", "gauge", "Bytes the paged models may take, by memory (host, gpu).");
        writer.Sample("turbine_model_paging_budget_bytes", [("memory", "host")], pager.Settings.BudgetBytes);
        writer.Sample("turbine_model_paging_budget_bytes", [("memory", "gpu")], pager.Settings.GpuBudgetBytes);
        writer.Family("turbine_model_paging_resident_bytes", "gauge", "Footprint of the loaded and loading models, by memory (host, gpu).");
        writer.Sample("turbine_model_paging_resident_bytes", [("memory", "host")], host);
        writer.Sample("turbine_model_paging_resident_bytes", [("memory", "gpu")], gpu);
        writer.Family("turbine_model_paging_waiting_requests", "gauge", "Requests waiting now for their model to load.");
        writer.Sample("turbine_model_paging_waiting_requests", [], pager.Waiting);
        writer.Family("turbine_model_paging_loads_total", "counter", "Models loaded on a request's demand.");
        writer.Sample("turbine_model_paging_loads_total", [], pager.Loads);
        writer.Family("turbine_model_paging_evictions_total", "counter", "Idle models unloaded to make room for another.");
        writer.Sample("turbine_model_paging_evictions_total", [], pager.Evictions);
        writer.Family("turbine_model_paging_refusals_total", "counter", "On-demand loads refused: the budget was held by busy or pinned models, or the model is bigger than it.");
        writer.Sample("turbine_model_paging_refusals_total", [], pager.Refusals);
    }

    /// <summary>Pipelines: requests by outcome, each step's time (successful executions), and which cascade stage answered.</summary>
    private static void WritePipelines(PrometheusTextWriter writer, Traffic.Pipelines.PipelineTable pipelines)
    {
        var all = pipelines.All;
        writer.Family("turbine_pipeline_requests_total", "counter", "Pipeline requests, by outcome (success, failure).");
        foreach (var pipeline in all)
        {
            writer.Sample("turbine_pipeline_requests_total", [("pipeline", pipeline.Definition.Name), ("outcome", "success")], pipeline.Statistics.Success.Count);
            writer.Sample("turbine_pipeline_requests_total", [("pipeline", pipeline.Definition.Name), ("outcome", "failure")], pipeline.Statistics.Fail.Count);
        }

        writer.Family("turbine_pipeline_step_duration_seconds", "histogram", "Time of each pipeline step's successful executions (a cascade's stages together).");
        foreach (var pipeline in all)
        {
            foreach (var step in pipeline.Definition.Steps)
            {
                DurationHistogram(writer, "turbine_pipeline_step_duration_seconds", [("pipeline", pipeline.Definition.Name), ("step", step.Name)], pipeline.Statistics.Steps[step.Name].Success);
            }
        }

        writer.Family("turbine_cascade_answers_total", "counter", "Requests each cascade stage answered; stages after the first answered escalated requests.");
        foreach (var pipeline in all)
        {
            foreach (var cascade in pipeline.Definition.Steps.OfType<Traffic.Pipelines.CascadeStep>())
            {
                var figures = pipeline.Statistics.Steps[cascade.Name];
                for (var stage = 0; stage < cascade.Stages.Count; stage++)
                {
                    writer.Sample("turbine_cascade_answers_total",
                        [("pipeline", pipeline.Definition.Name), ("step", cascade.Name), ("stage", cascade.Stages[stage].Target.ToString())], figures.AnsweredByStage(stage));
                }
            }
        }
    }

    /// <summary>The runners of one kind (generation engines, remote models) among the versions being served.</summary>
    private List<T> RunnersOf<T>(IReadOnlyList<ModelVersionInfo> models)
        where T : class, IVersionRunner
    {
        var runners = new List<T>();
        foreach (var model in models)
        {
            if (modelManager.Resolve(model.Config.Name, model.Version, out var runner) is null && runner is T found)
            {
                runners.Add(found);
            }
        }

        return runners;
    }

    /// <summary>Remote models: their breakers and their hedged requests (docs/BACKENDS.md).</summary>
    private static void WriteRemote(PrometheusTextWriter writer, List<Remote.RemoteRunner> runners)
    {
        if (runners.Count == 0)
        {
            return;
        }

        writer.Family("turbine_remote_breaker_open", "gauge", "1 while a remote model's breaker refuses requests at once.");
        foreach (var runner in runners)
        {
            writer.Sample("turbine_remote_breaker_open", Labels(runner), runner.IsBroken ? 1 : 0);
        }

        writer.Family("turbine_remote_hedges_total", "counter", "Requests also sent to a remote model's hedge target because the first was slower than the percentile.");
        foreach (var runner in runners)
        {
            writer.Sample("turbine_remote_hedges_total", Labels(runner), runner.Hedges);
        }

        writer.Family("turbine_remote_hedge_wins_total", "counter", "Hedged requests the hedge target answered first (the first target's call was cancelled; in the others the hedge's was).");
        foreach (var runner in runners)
        {
            writer.Sample("turbine_remote_hedge_wins_total", Labels(runner), runner.HedgeWins);
        }
    }

    /// <summary>
    /// Generative models' engines, named after vLLM's metrics (<c>vllm:X</c> is <c>turbine_llm_X</c> here, its
    /// <c>model_name</c> label is <c>model</c>; docs/LLM.md has the table) so that its dashboards carry over.
    /// </summary>
    private static void WriteGeneration(PrometheusTextWriter writer, List<Llm.Serving.GenerationRunner> runners)
    {
        Gauge("turbine_llm_num_requests_running", "Sequences in the engine's running batch.", e => e.Statistics.Running);
        Gauge("turbine_llm_num_requests_waiting", "Sequences waiting to be admitted (for cache or batch room).", e => e.Statistics.Waiting);
        Gauge("turbine_llm_kv_cache_usage_perc", "Share of the KV cache's blocks in use (0 to 1; cached prefixes that can be evicted count as free).", e => e.Blocks.Usage);
        Counter("turbine_llm_prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.", e => e.Blocks.PrefixCache.Queries);
        Counter("turbine_llm_prefix_cache_hits_total", "Prompt tokens found in the prefix cache (their cache reused, not recomputed).", e => e.Blocks.PrefixCache.Hits);
        Counter("turbine_llm_num_preemptions_total", "Sequences preempted (their cache given up, to be recomputed) when the cache ran out.", e => e.Preemptions);
        Counter("turbine_llm_prompt_tokens_total", "Prompt tokens admitted.", e => e.Statistics.PromptTokens);
        Counter("turbine_llm_generation_tokens_total", "Tokens generated.", e => e.Statistics.GenerationTokens);

        writer.Family("turbine_llm_request_success_total", "counter", "Sequences that finished, by finished_reason (stop, length, abort).");
        foreach (var runner in runners)
        {
            var statistics = runner.Model.Engine.Statistics;
            foreach (var (reason, count) in (ReadOnlySpan<(string, long)>)[("stop", statistics.FinishedStop), ("length", statistics.FinishedLength), ("abort", statistics.Aborted)])
            {
                writer.Sample("turbine_llm_request_success_total", [.. Labels(runner), ("finished_reason", reason)], count);
            }
        }

        Histogram("turbine_llm_time_to_first_token_seconds", "Time from a request's arrival to its first token.", e => e.Statistics.TimeToFirstToken);
        Histogram("turbine_llm_inter_token_latency_seconds", "Time between consecutive tokens of a sequence.", e => e.Statistics.InterTokenLatency);
        Histogram("turbine_llm_request_queue_time_seconds", "Time a request waited before the engine admitted it.", e => e.Statistics.QueueTime);
        Histogram("turbine_llm_e2e_request_latency_seconds", "Time from a request's arrival to its last token.", e => e.Statistics.EndToEnd);

        void Gauge(string name, string help, Func<Llm.Engine.GenerationEngine, double> read)
        {
            writer.Family(name, "gauge", help);
            foreach (var runner in runners)
            {
                writer.Sample(name, Labels(runner), read(runner.Model.Engine));
            }
        }

        void Counter(string name, string help, Func<Llm.Engine.GenerationEngine, long> read)
        {
            writer.Family(name, "counter", help);
            foreach (var runner in runners)
            {
                writer.Sample(name, Labels(runner), read(runner.Model.Engine));
            }
        }

        void Histogram(string name, string help, Func<Llm.Engine.GenerationEngine, DurationCounter> read)
        {
            writer.Family(name, "histogram", help);
            foreach (var runner in runners)
            {
                DurationHistogram(writer, name, Labels(runner), read(runner.Model.Engine));
            }
        }
    }

    private static (string, string)[] Labels(IVersionRunner runner) => [("model", runner.Config.Name), ("version", runner.VersionText)];

    private static (string, string)[] Labels(ModelVersionInfo model) => [("model", model.Config.Name), ("version", model.Version)];

    private static double[] ToSeconds(ReadOnlySpan<long> nanoseconds)
    {
        var seconds = new double[nanoseconds.Length];
        for (var i = 0; i < seconds.Length; i++)
        {
            seconds[i] = nanoseconds[i] / NanosecondsPerSecond;
        }

        return seconds;
    }
}
