using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Traffic;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>
/// The control plane over REST, every endpoint behind <see cref="ManagementAccess"/>: Triton's repository extension
/// (index, load with a config override, unload), Turbine's version routing (default version, labels, rollback), its
/// traffic routes and pipelines, and the model registry.
/// </summary>
internal static partial class RepositoryHttpEndpoints
{
    /// <summary>Load requests may carry a whole model configuration; the other bodies are a few bytes.</summary>
    private const int MaxSmallBody = 64 * 1024;
    private const int MaxDefinitionBody = 1024 * 1024; // a pipeline definition

    private static readonly Action<IBufferWriter<byte>> EmptyObject = static w => w.Write("{}"u8);

    public static void MapRepository(this IEndpointRouteBuilder app)
    {
        // The index is read-only metadata, as model metadata is: it answers without the management token.
        app.MapPost("/v2/repository/index", (HttpContext context, InferenceService inference, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, controlPlane: false, body =>
            {
                var error = KServeJson.ReadIndexRequest(body.Span, options.Value.MaxJsonDepth, out var readyOnly);
                return Task.FromResult(error is null ? Reply.Of(w => KServeJson.WriteRepositoryIndex(w, inference.Index(readyOnly))) : Reply.Of(error));
            }));

        app.MapPost("/v2/repository/models/{model}/load", (HttpContext context, string model, ModelControl control, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, (int)options.Value.MaxRequestBodyBytes, async body => // model files may come in it
            {
                var error = RepositoryJson.ReadLoadRequest(body.Span, options.Value.MaxJsonDepth, out var config, out var files)
                    ?? await control.LoadAsync(model, config, files, context.RequestAborted);
                return error is null ? Reply.Of(EmptyObject) : Reply.Of(error);
            }));

        app.MapPost("/v2/repository/models/{model}/unload", (HttpContext context, string model, ModelControl control) =>
            GuardedAsync(context, MaxSmallBody, async _ =>
            {
                var error = await control.UnloadAsync(model, context.RequestAborted);
                return error is null ? Reply.Of(EmptyObject) : Reply.Of(error);
            }));

        app.MapGet("/v2/repository/models/{model}/versions", (HttpContext context, string model, ModelManager models) =>
            GuardedAsync(context, MaxSmallBody, _ =>
            {
                var error = models.Serving(model, out var view);
                return Task.FromResult(Reply.Of((view, error)));
            }));

        app.MapPut("/v2/repository/models/{model}/default", (HttpContext context, string model, ModelManager models, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, async body =>
            {
                var error = RepositoryJson.ReadVersionRequest(body.Span, options.Value.MaxJsonDepth, out var version);
                return error is null ? Reply.Of(await models.SetDefaultVersionAsync(model, version, context.RequestAborted)) : Reply.Of(error);
            }));

        app.MapPut("/v2/repository/models/{model}/labels/{label}", (HttpContext context, string model, string label, ModelManager models, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, async body =>
            {
                var error = RepositoryJson.ReadVersionRequest(body.Span, options.Value.MaxJsonDepth, out var version);
                return error is null ? Reply.Of(await models.SetLabelAsync(model, label, version, context.RequestAborted)) : Reply.Of(error);
            }));

        app.MapDelete("/v2/repository/models/{model}/labels/{label}", (HttpContext context, string model, string label, ModelManager models) =>
            GuardedAsync(context, MaxSmallBody, async _ => Reply.Of(await models.SetLabelAsync(model, label, null, context.RequestAborted))));

        app.MapPost("/v2/repository/models/{model}/rollback", (HttpContext context, string model, ModelManager models) =>
            GuardedAsync(context, MaxSmallBody, async _ => Reply.Of(await models.RollbackAsync(model, context.RequestAborted))));

        MapRoutes(app);
        MapPipelines(app);
        MapRegistry(app);
        MapJobs(app);
        MapMonitoring(app);
    }

    /// <summary>
    /// Checks control-plane access (unless <c>controlPlane</c> is false), reads the body (bounded), checks its Content-Type,
    /// runs the action and writes its reply.
    /// </summary>
    private static Task GuardedAsync(HttpContext context, int maxBody, Func<ReadOnlyMemory<byte>, Task<Reply>> action) =>
        GuardedAsync(context, maxBody, controlPlane: true, action);

    private static async Task GuardedAsync(HttpContext context, int maxBody, bool controlPlane, Func<ReadOnlyMemory<byte>, Task<Reply>> action)
    {
        var denied = controlPlane ? context.RequestServices.GetRequiredService<ManagementAccess>().Check(context) : null;
        if (denied is not null)
        {
            await HttpResults.WriteErrorAsync(context, denied);
            return;
        }

        if (await RequestBodyReader.ReadOrRefuseAsync(context, maxBody) is not { } body)
        {
            return;
        }

        // Only a body has a type to refuse: Triton's aio client sends application/octet-stream on a bodyless unload.
        if (body.Length > 0 && context.Request.ContentType is { Length: > 0 } contentType && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            body.Dispose();
            await HttpResults.WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "the repository API accepts only application/json bodies");
            return;
        }

        Reply reply;
        using (body)
        {
            try
            {
                reply = await action(body.Span.ToArray());
            }
            catch (Core.State.StateStoreException)
            {
                // Saved first, published after: a change the store did not take was not made.
                reply = Reply.Of(InferenceError.Unavailable("the state store cannot be written now; nothing was changed, try again"));
            }
        }

        await (reply.Error is not null ? HttpResults.WriteErrorAsync(context, reply.Error) : HttpResults.WriteJsonAsync(context, reply.Body!));
    }

    /// <summary>What an endpoint answers: an error, or a JSON body.</summary>
    private readonly record struct Reply(InferenceError? Error, Action<IBufferWriter<byte>>? Body)
    {
        public static Reply Of(InferenceError error) => new(error, null);

        public static Reply Of(Action<IBufferWriter<byte>> body) => new(null, body);

        public static Reply Of((ServingView? View, InferenceError? Error) result) =>
            result.Error is not null ? Of(result.Error) : Of(w => RepositoryJson.WriteServingView(w, result.View!));
    }
}
