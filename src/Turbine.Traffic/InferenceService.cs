using Turbine.Core.Caching;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Observation;
using Turbine.Traffic.Pipelines;

namespace Turbine.Traffic;

/// <summary>
/// The entry point every protocol calls: sends a route's request to a variant, runs a pipeline's steps, or hands the
/// request to the <see cref="ModelExecutor"/> of the models. Protocol adapters decode and encode; they decide nothing.
/// Routing and the catalog (metadata, statistics, index) are in their own parts of this class.
/// </summary>
public sealed partial class InferenceService
{
    /// <summary>The response parameters that say which route and variant served a request.</summary>
    public const string RouteParameter = "turbine_route";

    /// <inheritdoc cref="RouteParameter"/>
    public const string VariantParameter = "turbine_variant";

    private readonly ModelExecutor _executor;
    private readonly TimeProvider _time;
    private readonly RouteTable _routes;
    private readonly PipelineTable _pipelines;
    private readonly Func<InferenceRequest, string, string?, ValueTask<InferenceResult>> _runWithoutRoutes;
    private readonly ModelCaller _callModel;
    private readonly InferenceTap _tap;
    private readonly IUsageMeter? _usage;

    /// <summary>Creates the service over <paramref name="models"/>, the <paramref name="routes"/> and <paramref name="pipelines"/> in front of them and a response cache.</summary>
    /// <param name="models">The models.</param>
    /// <param name="routes">The routes in front of them.</param>
    /// <param name="cache">The response cache.</param>
    /// <param name="pipelines">The pipelines over them.</param>
    /// <param name="time">The clock that times routes and cache lookups (the system's by default).</param>
    /// <param name="tap">Where a sample of completed requests goes for the observers (none by default).</param>
    /// <param name="screen">What looks at each validated request before it runs (data-quality rules), if anything.</param>
    /// <param name="usage">What sees every completed request for cost attribution, if anything.</param>
    /// <param name="pager">What loads a model absent from memory on its request, if models are paged.</param>
    public InferenceService(
        ModelManager models, RouteTable? routes = null, ResponseCache? cache = null, PipelineTable? pipelines = null, TimeProvider? time = null, InferenceTap? tap = null,
        IRequestScreen? screen = null, IUsageMeter? usage = null, ModelPager? pager = null)
    {
        _tap = tap ?? InferenceTap.None;
        _usage = usage;
        _time = time ?? TimeProvider.System;
        _executor = new ModelExecutor(models, cache, _time, screen, pager);
        _routes = routes ?? new RouteTable(null);
        _pipelines = pipelines ?? new PipelineTable(null);
        _runWithoutRoutes = (request, model, version) => RunAsync(request, model, version, CancellationToken.None);
        _callModel = _executor.RunAsync;
    }

    /// <summary>The routes in front of the models.</summary>
    public RouteTable Routes => _routes;

    /// <summary>The pipelines over the models.</summary>
    public PipelineTable Pipelines => _pipelines;

    /// <summary>The model manager behind the service.</summary>
    public ModelManager Models => _executor.Models;

    /// <summary>What runs a request on a model once routes and pipelines have had their say.</summary>
    public ModelExecutor Executor => _executor;

    /// <summary>
    /// The check a protocol decoder makes on each input before it decodes or copies the input's data: the spec of
    /// the version that will serve <paramref name="model"/>. Null for routes, pipelines and names that resolve to no
    /// ready version, whose requests are checked (or refused) once decoded.
    /// </summary>
    public InputSpecCheck? InputCheckFor(string model, string? version)
    {
        return _routes.TryGet(model, out _) || _pipelines.TryGet(model, out _) ? null : _executor.InputCheckFor(model, version);
    }

    /// <summary>Runs one request. The caller keeps ownership of <paramref name="request"/> and disposes the response.</summary>
    public ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var observed = _tap.ShouldSample();
        return observed || _usage is not null ? MonitoredAsync(request, observed, cancellationToken) : InferUnobservedAsync(request, cancellationToken);
    }

    /// <summary>Runs a request, then hands a copy of it and its answer to the observers (when the tap picked it) and its usage to the meter.</summary>
    private async ValueTask<InferenceResult> MonitoredAsync(InferenceRequest request, bool observed, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var result = await InferUnobservedAsync(request, cancellationToken);
        var parameters = result.Response?.Parameters;
        var route = parameters?.GetValueOrDefault(RouteParameter) as string;
        var variant = parameters?.GetValueOrDefault(VariantParameter) as string;
        if (observed)
        {
            _tap.Offer(request, result, route, variant, _time.GetElapsedTime(started));
        }

        _usage?.Record(new InferenceUsage(
            result.Response?.ModelName ?? request.ModelName, route, variant, result.Response?.ComputeNanoseconds ?? 0, result.Error is not null, UsageAccount.Current));
        return result;
    }

    private ValueTask<InferenceResult> InferUnobservedAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        if (!_routes.TryGet(request.ModelName, out var route))
        {
            return RunAsync(request, request.ModelName, request.ModelVersion, cancellationToken);
        }

        if (!string.IsNullOrEmpty(request.ModelVersion))
        {
            return ValueTask.FromResult(InferenceResult.Failed(InferenceError.Invalid(
                $"'{request.ModelName}' is a route and picks the version itself; call it without a version")));
        }

        var index = route.Pick(StickyKey(route.Definition, request));
        var variant = route.Definition.Variants[index];
        request.Id ??= Guid.NewGuid().ToString("N"); // the id a client sends feedback with (docs/TRAFFIC.md)
        route.Experiment.Remember(request.Id, index);
        var routed = new RoutedCall(route, index, variant.Name, route.ShouldMirror() ? ShadowMirror.Copy(request, route.Definition.Shadow!.Model) : null, _time.GetTimestamp());
        if (System.Diagnostics.Activity.Current is not null && TurbineTracing.Source.HasListeners())
        {
            return TracedAsync(request, variant, routed, cancellationToken);
        }

        if (route.Pipeline(index) is { } pipeline)
        {
            return ResilientAsync(request, route, variant, pipeline, routed, cancellationToken);
        }

        var pending = RunAsync(request, variant.Model, variant.Version, cancellationToken);
        return pending.IsCompletedSuccessfully ? ValueTask.FromResult(Complete(pending.Result, routed)) : CompleteAsync(pending, routed);
    }

    /// <summary>A routed request inside its own <c>turbine.route</c> span; an async method, so the span is current only for the calls beneath it.</summary>
    private async ValueTask<InferenceResult> TracedAsync(InferenceRequest request, RouteVariant variant, RoutedCall routed, CancellationToken cancellationToken)
    {
        using var span = TurbineTracing.StartStep("turbine.route");
        span?.SetTag("turbine.route", routed.Route.Definition.Name);
        span?.SetTag("turbine.variant", variant.Name);
        var result = routed.Route.Pipeline(routed.Index) is { } pipeline
            ? await ResilientAsync(request, routed.Route, variant, pipeline, routed, cancellationToken)
            : Complete(await RunAsync(request, variant.Model, variant.Version, cancellationToken), routed);
        span?.SetStatus(result.Error is null ? System.Diagnostics.ActivityStatusCode.Ok : System.Diagnostics.ActivityStatusCode.Error);
        return result;
    }

    /// <summary>Runs a request on a pipeline or a model version (the targets of clients, route variants, fallbacks and shadows).</summary>
    private ValueTask<InferenceResult> RunAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken)
    {
        if (!_pipelines.TryGet(model, out var pipeline))
        {
            return _executor.RunAsync(request, model, version, cancellationToken);
        }

        // A pipeline answers as version 1 (its metadata says so, as Triton's ensembles do), so clients that echo it work.
        return string.IsNullOrEmpty(version) || version == "1"
            ? pipeline.RunAsync(request, _callModel, cancellationToken)
            : ValueTask.FromResult(InferenceResult.Failed(InferenceError.NotFound($"pipeline '{model}' has only version 1")));
    }
}
