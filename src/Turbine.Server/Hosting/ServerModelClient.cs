using Turbine.Traffic;

namespace Turbine.Server.Hosting;

/// <summary>
/// What custom models call other models through (Triton's business logic scripting): the same
/// <see cref="InferenceService"/> client requests go through, routes, pipelines and the response cache included. Calls
/// nest at most <see cref="MaxDepth"/> deep, so a model that calls itself, or two that call each other, fail fast
/// instead of filling every queue.
/// </summary>
internal sealed class ServerModelClient(InferenceService inference) : IModelClient
{
    public const int MaxDepth = 8;

    private static readonly AsyncLocal<int> Depth = new();

    public async ValueTask<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Depth.Value >= MaxDepth)
        {
            throw new InferenceException(InferenceError.Invalid(
                $"model calls nest more than {MaxDepth} deep (a custom model calling '{ClientText.Quote(request.ModelName)}' again and again?)"));
        }

        Depth.Value++;
        try
        {
            var result = await inference.InferAsync(request, cancellationToken).ConfigureAwait(false);
            return result.Error is { } error ? throw new InferenceException(error) : result.Response!;
        }
        finally
        {
            Depth.Value--;
        }
    }
}
