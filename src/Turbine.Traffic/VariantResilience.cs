using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Turbine.Core.Execution;

namespace Turbine.Traffic;

/// <summary>
/// Builds one variant's Polly pipeline from a route's <see cref="RouteResilience"/>: bulkhead (concurrency limit,
/// no queue) outermost, then retries with exponential backoff, then the circuit breaker, then the per-attempt timeout.
/// A failure is an exception or an answer of 503, 500 or 504 (and a cancellation the caller did not ask for).
/// </summary>
internal static class VariantResilience
{
    /// <summary>Builds the pipeline; <paramref name="circuit"/> reports its breaker's state, when it has one.</summary>
    public static ResiliencePipeline<InferenceResult> Build(RouteResilience settings, TimeProvider time, CircuitBreakerStateProvider? circuit = null)
    {
        var builder = new ResiliencePipelineBuilder<InferenceResult> { TimeProvider = time };
        if (settings.MaxConcurrency > 0)
        {
            builder.AddConcurrencyLimiter(settings.MaxConcurrency, queueLimit: 0);
        }

        if (settings.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<InferenceResult>
            {
                MaxRetryAttempts = settings.Retries,
                Delay = TimeSpan.FromMilliseconds(10),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
            });
        }

        if (settings.CircuitBreaker is { } breaker)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<InferenceResult>
            {
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(breaker.SamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(breaker.BreakSeconds),
                StateProvider = circuit,
                ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
            });
        }

        if (settings.TimeoutMilliseconds > 0)
        {
            builder.AddTimeout(TimeSpan.FromMilliseconds(settings.TimeoutMilliseconds));
        }

        return builder.Build();
    }

    /// <summary>Whether an answer means "this variant could not serve", so that retries, the breaker and fallbacks act on it.</summary>
    public static bool IsFailure(InferenceResult result) =>
        result.Error is { Code: StatusCode.Unavailable or StatusCode.Internal or StatusCode.DeadlineExceeded or StatusCode.Cancelled };

    private static bool IsFailure(Outcome<InferenceResult> outcome) =>
        outcome.Exception is not null ? outcome.Exception is not OperationCanceledException : IsFailure(outcome.Result);
}
