using System.Text.Json;

namespace Turbine.Monitoring.Profiles;

/// <summary>
/// The profile file's JSON form (docs/MONITORING.md). Reading refuses what a profile cannot hold (another format, too
/// many features, samples or categories beyond the builder's caps, non-finite figures) with a message naming the
/// field, since a profile may come from anywhere a model version comes from.
/// </summary>
public static class ProfileJson
{
    /// <summary>The largest profile file read.</summary>
    public const long MaxFileBytes = 256L << 20;

    private const int MaxFeatures = 100_000;
    private const int MaxSample = 1_000_000;

    /// <summary>Writes <paramref name="profile"/>.</summary>
    public static void Write(Utf8JsonWriter writer, ReferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(profile);
        writer.WriteStartObject();
        writer.WriteString("format", ReferenceProfile.Format);
        writer.WriteString("model", profile.Model);
        writer.WriteString("created", profile.Created);
        writer.WriteNumber("rows", profile.Rows);
        writer.WriteStartArray("features");
        foreach (var feature in profile.Features)
        {
            WriteFeature(writer, feature);
        }

        writer.WriteEndArray();
        if (profile.Calibration is { } calibration)
        {
            writer.WriteStartObject("calibration");
            writer.WriteString("output", calibration.Output);
            writer.WriteNumber("accuracy", calibration.Accuracy);
            WriteNumbers(writer, "rows", calibration.Rows);
            WriteNumbers(writer, "correct", calibration.Correct);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes <paramref name="profile"/> to <paramref name="path"/> (a temporary file renamed into place).</summary>
    public static void Save(string path, ReferenceProfile profile)
    {
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            Write(writer, profile);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads the profile at <paramref name="path"/>; problems go to <paramref name="errors"/> and the result is then null.</summary>
    public static ReferenceProfile? Load(string path, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            errors.Add($"the profile is {length} bytes, more than {MaxFileBytes}");
            return null;
        }

        return Read(File.ReadAllBytes(path), errors);
    }

    /// <summary>Reads a profile; problems go to <paramref name="errors"/> and the result is then null.</summary>
    public static ReferenceProfile? Read(ReadOnlySpan<byte> json, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
        JsonDocument document;
        try
        {
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            errors.Add($"the profile is not JSON: {e.Message}");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || ConfigJson.String(root, "format", errors, "profile") != ReferenceProfile.Format)
            {
                errors.Add($"the profile's 'format' must be '{ReferenceProfile.Format}'");
                return null;
            }

            var features = new List<FeatureProfile>();
            if (!root.TryGetProperty("features", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() > MaxFeatures)
            {
                errors.Add($"the profile needs 'features', an array of at most {MaxFeatures}");
                return null;
            }

            foreach (var item in list.EnumerateArray())
            {
                if (ReadFeature(item, errors) is { } feature)
                {
                    features.Add(feature);
                }
            }

            var profile = new ReferenceProfile
            {
                Model = ConfigJson.String(root, "model", errors, "profile") ?? string.Empty,
                Created = root.TryGetProperty("created", out var created) && created.TryGetDateTimeOffset(out var time) ? time : default,
                Rows = ConfigJson.Long(root, "rows", errors, "profile") ?? 0,
                Features = features,
                Calibration = root.TryGetProperty("calibration", out var calibration) ? ReadCalibration(calibration, errors) : null,
            };
            return errors.Count == 0 ? profile : null;
        }
    }

    private static void WriteFeature(Utf8JsonWriter writer, FeatureProfile feature)
    {
        writer.WriteStartObject();
        writer.WriteString("name", feature.Name);
        writer.WriteString("source", feature.Source == FeatureSource.Input ? "input" : "output");
        writer.WriteString("kind", feature.Kind == FeatureKind.Numeric ? "numeric" : "categorical");
        writer.WriteNumber("count", feature.Count);
        writer.WriteNumber("missing", feature.Missing);
        if (feature.Kind == FeatureKind.Numeric && feature.Sample.Count > 0)
        {
            writer.WriteNumber("min", feature.Min);
            writer.WriteNumber("max", feature.Max);
            writer.WriteNumber("mean", feature.Mean);
            writer.WriteNumber("std", feature.StandardDeviation);
            WriteNumbers(writer, "quantiles", feature.Quantiles);
            writer.WriteStartObject("histogram");
            WriteNumbers(writer, "edges", feature.HistogramEdges);
            WriteNumbers(writer, "counts", feature.HistogramCounts);
            writer.WriteEndObject();
            WriteNumbers(writer, "sample", feature.Sample);
        }

        if (feature.Categories is { } categories)
        {
            writer.WriteStartObject("categories");
            foreach (var (category, count) in categories)
            {
                writer.WriteNumber(category, count);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static FeatureProfile? ReadFeature(JsonElement item, List<string> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add("each profile feature must be an object");
            return null;
        }

        var name = ConfigJson.String(item, "name", errors, "profile feature");
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("each profile feature needs a 'name'");
            return null;
        }

        var at = $"profile feature '{ClientText.Quote(name)}'";
        var feature = new FeatureProfile
        {
            Name = name,
            Source = ConfigJson.String(item, "source", errors, at) == "output" ? FeatureSource.Output : FeatureSource.Input,
            Kind = ConfigJson.String(item, "kind", errors, at) == "categorical" ? FeatureKind.Categorical : FeatureKind.Numeric,
            Count = ConfigJson.Long(item, "count", errors, at) ?? 0,
            Missing = ConfigJson.Long(item, "missing", errors, at) ?? 0,
            Min = Number(item, "min", errors, at),
            Max = Number(item, "max", errors, at),
            Mean = Number(item, "mean", errors, at),
            StandardDeviation = Number(item, "std", errors, at),
            Quantiles = Numbers(item, "quantiles", 101, errors, at),
            HistogramEdges = item.TryGetProperty("histogram", out var histogram) ? Numbers(histogram, "edges", 11, errors, at) : [],
            HistogramCounts = item.TryGetProperty("histogram", out histogram) ? [.. Numbers(histogram, "counts", 10, errors, at).Select(v => (long)v)] : [],
            Sample = Numbers(item, "sample", MaxSample, errors, at),
            Categories = item.TryGetProperty("categories", out var categories) ? Categories(categories, errors, at) : null,
        };
        if (!IsSorted(feature.Sample))
        {
            errors.Add($"{at}: 'sample' must be sorted");
        }

        return feature;
    }

    private static ConfidenceCalibration? ReadCalibration(JsonElement element, List<string> errors)
    {
        const string At = "profile calibration";
        var rows = Numbers(element, "rows", ConfidenceCalibration.Bins, errors, At);
        var correct = Numbers(element, "correct", ConfidenceCalibration.Bins, errors, At);
        if (rows.Length != ConfidenceCalibration.Bins || correct.Length != ConfidenceCalibration.Bins)
        {
            errors.Add($"{At}: 'rows' and 'correct' need {ConfidenceCalibration.Bins} counts each");
            return null;
        }

        return new ConfidenceCalibration(
            ConfigJson.String(element, "output", errors, At) ?? string.Empty, [.. rows.Select(v => (long)v)], [.. correct.Select(v => (long)v)], Number(element, "accuracy", errors, At));
    }

    private static double Number(JsonElement item, string name, List<string> errors, string at)
    {
        if (!item.TryGetProperty(name, out var value))
        {
            return 0;
        }

        if (value.ValueKind != JsonValueKind.Number || !double.IsFinite(value.GetDouble()))
        {
            errors.Add($"{at}: '{name}' must be a finite number");
            return 0;
        }

        return value.GetDouble();
    }

    private static double[] Numbers(JsonElement item, string name, int max, List<string> errors, string at)
    {
        if (!item.TryGetProperty(name, out var array))
        {
            return [];
        }

        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() > max)
        {
            errors.Add($"{at}: '{name}' must be an array of at most {max} numbers");
            return [];
        }

        var values = new double[array.GetArrayLength()];
        var k = 0;
        foreach (var value in array.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !double.IsFinite(value.GetDouble()))
            {
                errors.Add($"{at}: '{name}' must hold finite numbers only");
                return [];
            }

            values[k++] = value.GetDouble();
        }

        return values;
    }

    private static SortedDictionary<string, long>? Categories(JsonElement element, List<string> errors, string at)
    {
        var categories = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{at}: 'categories' must be an object of counts");
            return null;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (categories.Count >= ProfileBuilder.MaxCategories + 1 || property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var count) || count < 0)
            {
                errors.Add($"{at}: 'categories' must map at most {ProfileBuilder.MaxCategories + 1} values to counts");
                return null;
            }

            categories[property.Name] = count;
        }

        return categories;
    }

    private static void WriteNumbers(Utf8JsonWriter writer, string name, IReadOnlyList<double> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteNumberValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteNumbers(Utf8JsonWriter writer, string name, IReadOnlyList<long> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteNumberValue(value);
        }

        writer.WriteEndArray();
    }

    private static bool IsSorted(IReadOnlyList<double> values)
    {
        for (var k = 1; k < values.Count; k++)
        {
            if (values[k] < values[k - 1])
            {
                return false;
            }
        }

        return true;
    }
}
