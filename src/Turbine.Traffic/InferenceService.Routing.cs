using System.Globalization;
using Turbine.Core.Execution;

namespace Turbine.Traffic;

/// <summary>The routed side of the service: resilience and fallbacks, sticky keys, and what a routed answer carries.</summary>
public sealed partial class InferenceService
{
    /// <summary>
    /// Runs a routed request through its variant's resilience pipeline, hedged to the route's hedge target when the
    /// variant is slow; when neither can answer (failure, deadline, open circuit, full bulkhead), tries the route's
    /// fallbacks in order. A fallback's answer names it as <c>fallback:model</c> in <see cref="VariantParameter"/>, the
    /// hedge's as <c>hedge:model</c>.
    /// </summary>
    private async ValueTask<InferenceResult> ResilientAsync(
        InferenceRequest request, CompiledRoute route, RouteVariant variant, Polly.ResiliencePipeline<InferenceResult> pipeline, RoutedCall routed, CancellationToken cancellationToken)
    {
        InferenceResult result;
        if (route.Hedging is { } hedging)
        {
            var hedge = hedging.Settings.Target;
            InferenceRequest? copy = null;
            var outcome = await hedging.RunAsync(
                token => VariantAsync(request, route, variant, pipeline, token).AsTask(),
                token =>
                {
                    copy = ShadowMirror.Copy(request, hedge.Model); // the hedge may outlive the answer: it runs on tensors of its own
                    return RunAsync(copy, hedge.Model, hedge.Version, token).AsTask();
                },
                _time, cancellationToken);
            result = outcome.Result;
            if (copy is not null)
            {
                RetireHedgeCopy(request, copy, outcome.HedgeWon, outcome.Loser!);
            }

            if (outcome.HedgeWon)
            {
                return Complete(result, routed with { Variant = "hedge:" + hedge.Name });
            }
        }
        else
        {
            result = await VariantAsync(request, route, variant, pipeline, cancellationToken);
        }

        if (!VariantResilience.IsFailure(result) || cancellationToken.IsCancellationRequested)
        {
            return Complete(result, routed);
        }

        foreach (var fallback in route.Definition.Resilience!.Fallbacks)
        {
            var attempt = await RunAsync(request, fallback.Model, fallback.Version, cancellationToken);
            if (!VariantResilience.IsFailure(attempt))
            {
                return Complete(attempt, routed with { Variant = "fallback:" + fallback.Name, ByFallback = true });
            }
        }

        if (route.Definition.Resilience.DefaultResponse is { } outputs)
        {
            var answer = new InferenceResponse { ModelName = route.Definition.Name, ModelVersion = "default", Id = request.Id };
            foreach (var output in outputs)
            {
                answer.Outputs.Add(output.ToTensor());
                answer.OutputBinary.Add(request.BinaryDataOutputByDefault || request.Outputs.Exists(o => o.Name == output.Name && o.BinaryData));
            }

            return Complete(new InferenceResult(answer, null), routed with { Variant = "fallback:default", ByFallback = true, Mirror = Discard(routed.Mirror) });
        }

        return Complete(result, routed);
    }

    /// <summary>
    /// Frees the hedge's copy of the inputs once the losing call has ended, whichever it was: the caller disposes the
    /// request as soon as it is answered, and a losing model run cannot be stopped midway. When the hedge won, the
    /// variant's call may still be reading the request's own tensors, so they trade places: the request takes the copy's
    /// (the hedge is done with them) and the copy keeps the originals until the variant's call ends.
    /// </summary>
    private static void RetireHedgeCopy(InferenceRequest request, InferenceRequest copy, bool hedgeWon, Task loser)
    {
        if (hedgeWon)
        {
            Tensor[] originals = [.. request.Inputs];
            request.Inputs.Clear();
            request.Inputs.AddRange(copy.Inputs);
            copy.Inputs.Clear();
            copy.Inputs.AddRange(originals);
        }

        _ = loser.ContinueWith(static (_, state) => ((InferenceRequest)state!).Dispose(), copy, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Runs the request on the variant through its resilience pipeline; what Polly refuses becomes the variant's failure.</summary>
    private async ValueTask<InferenceResult> VariantAsync(
        InferenceRequest request, CompiledRoute route, RouteVariant variant, Polly.ResiliencePipeline<InferenceResult> pipeline, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(token => RunAsync(request, variant.Model, variant.Version, token), cancellationToken);
        }
        catch (Exception e) when (e is Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException or Polly.RateLimiting.RateLimiterRejectedException)
        {
            var reason = e switch
            {
                Polly.CircuitBreaker.BrokenCircuitException => "its circuit is open",
                Polly.Timeout.TimeoutRejectedException => "it did not answer in time",
                _ => "it has as many requests in flight as it may",
            };
            return InferenceResult.Failed(e is Polly.Timeout.TimeoutRejectedException
                ? new InferenceError(StatusCode.DeadlineExceeded, $"variant '{variant.Name}' of route '{route.Definition.Name}' failed: {reason}")
                : InferenceError.Unavailable($"variant '{variant.Name}' of route '{route.Definition.Name}' is unavailable: {reason}"));
        }
    }

    /// <summary>A request a route is serving: which route and variant, the copy for its shadow, when it started.</summary>
    private sealed record RoutedCall(CompiledRoute Route, int Index, string Variant, InferenceRequest? Mirror, long Started, bool ByFallback = false);

    /// <summary>Drops a shadow copy: a fixed default answer says nothing a shadow could be compared with.</summary>
    private static InferenceRequest? Discard(InferenceRequest? mirror)
    {
        mirror?.Dispose();
        return null;
    }

    private async ValueTask<InferenceResult> CompleteAsync(ValueTask<InferenceResult> pending, RoutedCall routed) => Complete(await pending, routed);

    /// <summary>
    /// Names the route and variant in the response, hands a copy of the answered request to the shadow, and counts the
    /// outcome for the route's rollout (an answer from a fallback counts as a failure of the variant picked).
    /// </summary>
    private InferenceResult Complete(InferenceResult result, RoutedCall routed)
    {
        routed.Route.Canary?.Observe(
            routed.Index, routed.ByFallback || VariantResilience.IsFailure(result),
            _time.GetElapsedTime(routed.Started));
        if (result.Response is not { } response)
        {
            routed.Mirror?.Dispose();
            return result;
        }

        if (routed.Mirror is { } mirror)
        {
            var primaryOutputs = response.Outputs.Select(o => new Tensor(o.Name, o.DataType, [.. o.Shape], TensorBuffer.CopyOf(o.Data.Span))).ToList();
            routed.Route.Mirror.Offer(routed.Route, mirror, primaryOutputs, _time.GetElapsedTime(routed.Started), _runWithoutRoutes);
        }

        response.Parameters ??= new Dictionary<string, object>(2, StringComparer.Ordinal);
        response.Parameters[RouteParameter] = routed.Route.Definition.Name;
        response.Parameters[VariantParameter] = routed.Variant;
        return result;
    }

    /// <summary>The sticky parameter's value when the request has it, else the sticky header's (<see cref="InferenceRequest.RoutingKey"/>).</summary>
    private static string? StickyKey(RouteDefinition route, InferenceRequest request) =>
        route.StickyParameter is { } name && request.Parameters?.TryGetValue(name, out var value) == true
            ? Convert.ToString(value, CultureInfo.InvariantCulture)
            : request.RoutingKey;

    /// <summary>The header whose value the transport should put in <see cref="InferenceRequest.RoutingKey"/> for a call to <paramref name="model"/>; null for none.</summary>
    public string? StickyHeaderOf(string model) => _routes.TryGet(model, out var route) ? route.Definition.StickyHeader : null;
}
