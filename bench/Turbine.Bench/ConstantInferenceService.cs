using Grpc.Core;
using Turbine.Protocols.Grpc;

namespace Turbine.Bench;

/// <summary>The gRPC network-stack limit: ModelInfer answering one prepared response, with no decoding or model.</summary>
internal sealed class ConstantInferenceService(ModelInferResponse response) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) => Task.FromResult(response);
}
