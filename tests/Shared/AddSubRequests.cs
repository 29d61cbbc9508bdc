using System.Text;

namespace Turbine.Tests;

/// <summary>
/// The request most tests send to an AddSub model of 4 INT32 elements (SampleModels.AddSub(DataType.Int32, 4)):
/// INPUT0 = [1, 2, 3, 4], INPUT1 = [1, 1, 1, 1], so OUTPUT0 = [2, 3, 4, 5]; as a request object and as a REST body.
/// </summary>
internal static class AddSubRequests
{
    public const string Json =
        """{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]},{"name":"INPUT1","shape":[1,4],"datatype":"INT32","data":[1,1,1,1]}]}""";

    public static InferenceRequest Create(string model, string? version = null)
    {
        var request = new InferenceRequest { ModelName = model, ModelVersion = version };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]));
        request.Inputs.Add(Tensor.FromArray<int>("INPUT1", [1, 4], [1, 1, 1, 1]));
        return request;
    }

    /// <summary>The JSON body as HTTP content.</summary>
    public static StringContent Content() => new(Json, Encoding.UTF8, "application/json");
}
