namespace Turbine;

/// <summary>
/// Checks one input's name, data type and shape against the model it is sent to, before a protocol decoder decodes
/// or copies its data: a tensor that cannot fit the model is refused without being read. Null when the target is
/// not a plain model (a route or pipeline checks its inputs once the model behind it is known).
/// </summary>
/// <returns>null when the input may be decoded, else why it is refused.</returns>
public delegate InferenceError? InputSpecCheck(string name, DataType dataType, long[] shape);
