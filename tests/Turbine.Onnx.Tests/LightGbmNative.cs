using System.Runtime.InteropServices;

namespace Turbine.Onnx.Tests;

/// <summary>
/// LightGBM itself (its C API, lib_lightgbm from the LightGBM 4.7.0 package): trains small models in the tests and
/// gives the reference predictions the served models must equal.
/// </summary>
internal static partial class LightGbmNative
{
    private const string Library = "lib_lightgbm";
    private const int Float64 = 1;
    private const int Float32 = 0;

    /// <summary>Trains on row-major <paramref name="rows"/> and writes the model text to <paramref name="modelPath"/>; returns the booster for predictions.</summary>
    public static Booster Train(double[] rows, int columns, float[] labels, string parameters, int iterations, string modelPath)
    {
        Check(DatasetCreateFromMat(rows, Float64, labels.Length, columns, 1, parameters, IntPtr.Zero, out var dataset));
        try
        {
            Check(DatasetSetField(dataset, "label", labels, labels.Length, Float32));
            Check(BoosterCreate(dataset, parameters, out var booster));
            for (var i = 0; i < iterations; i++)
            {
                Check(BoosterUpdateOneIter(booster, out var finished));
                if (finished != 0)
                {
                    break;
                }
            }

            Check(BoosterSaveModel(booster, 0, -1, 0, modelPath));
            return new Booster(booster);
        }
        finally
        {
            _ = DatasetFree(dataset);
        }
    }

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"LightGBM: {Marshal.PtrToStringUTF8(GetLastError())}");
        }
    }

    /// <summary>A trained model in LightGBM's memory.</summary>
    public sealed class Booster(IntPtr handle) : IDisposable
    {
        /// <summary>LightGBM's own predictions (probabilities for classifiers), <paramref name="width"/> a row.</summary>
        public double[] Predict(double[] rows, int columns, int width)
        {
            var count = rows.Length / columns;
            var result = new double[count * width];
            Check(BoosterPredictForMat(handle, rows, Float64, count, columns, 1, 0, 0, -1, string.Empty, out var length, result));
            return length == result.Length ? result : throw new InvalidOperationException($"LightGBM gave {length} values, {result.Length} expected");
        }

        public void Dispose() => _ = BoosterFree(handle);
    }

    [LibraryImport(Library, EntryPoint = "LGBM_GetLastError")]
    private static partial IntPtr GetLastError();

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetCreateFromMat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int DatasetCreateFromMat(double[] data, int dataType, int rows, int columns, int rowMajor, string parameters, IntPtr reference, out IntPtr dataset);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetSetField", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int DatasetSetField(IntPtr dataset, string field, float[] data, int count, int type);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetFree")]
    private static partial int DatasetFree(IntPtr dataset);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterCreate", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int BoosterCreate(IntPtr dataset, string parameters, out IntPtr booster);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterUpdateOneIter")]
    private static partial int BoosterUpdateOneIter(IntPtr booster, out int finished);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterSaveModel", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int BoosterSaveModel(IntPtr booster, int startIteration, int iterations, int importanceType, string path);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterPredictForMat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int BoosterPredictForMat(IntPtr booster, double[] data, int dataType, int rows, int columns, int rowMajor, int predictType, int startIteration, int iterations, string parameters, out long length, double[] result);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterFree")]
    private static partial int BoosterFree(IntPtr booster);
}
