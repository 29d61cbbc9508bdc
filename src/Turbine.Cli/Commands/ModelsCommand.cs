using System.CommandLine;
using Turbine.Client;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine models list|load|unload|config|stats|versions|default|label|rollback</c>: the repository and model APIs
/// from the shell. Version routing (default, labels, rollback) is a REST extension of Turbine's.
/// </summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List, load, unload and inspect models");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Load());
        command.Subcommands.Add(Action("unload", "Unload a model", (client, model, token) => client.UnloadModelAsync(model, token), "unloaded"));
        command.Subcommands.Add(Config());
        command.Subcommands.Add(Stats());
        command.Subcommands.Add(Routing("versions", "Show a model's ready versions, default version and labels", null, (client, model, _, token) => client.GetServingAsync(model, token)));
        command.Subcommands.Add(Routing("rollback", "Make the previous ready version the default, at once", null, (client, model, _, token) => client.RollbackAsync(model, token)));
        command.Subcommands.Add(Routing("default", "Pin the default version ('newest' unpins)", "version", (client, model, args, token) =>
            client.SetDefaultVersionAsync(model, ParseVersion(args[0], "newest"), token)));
        command.Subcommands.Add(Routing("label", "Point a label at a version ('none' removes it)", "label version", (client, model, args, token) =>
            client.SetLabelAsync(model, args[0], ParseVersion(args[1], "none"), token)));
        return command;
    }

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var command = new Command("list", "List the repository's models and their states");
        connection.AddTo(command);
        command.SetAction((parse, token) => connection.RunAsync(parse, async client =>
        {
            var models = await client.GetRepositoryIndexAsync(false, token);
            Console.WriteLine($"{"MODEL",-24} {"VERSION",-8} {"STATE",-12} REASON");
            foreach (var model in models)
            {
                Console.WriteLine($"{model.Name,-24} {model.Version ?? "-",-8} {model.State,-12} {model.Reason}");
            }
        }));
        return command;
    }

    private static Command Action(string name, string description, Func<ITurbineClient, string, CancellationToken, Task> action, string done)
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "Model name" };
        var command = new Command(name, description) { model };
        connection.AddTo(command);
        command.SetAction((parse, token) => connection.RunAsync(parse, async client =>
        {
            await action(client, parse.GetValue(model)!, token);
            Console.WriteLine($"{parse.GetValue(model)} {done}");
        }));
        return command;
    }

    private static Command Load()
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "Model name" };
        var config = new Option<FileInfo?>("--config") { Description = "A config.json to use instead of the model folder's, for this load (REST only)" };
        var files = new Option<string[]>("--file")
        {
            Description = "Send a model file with the load, as '<path in the model folder>=<local file>' (e.g. 1/model.onnx=./model.onnx); needs --config; repeatable",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("load", "Load (or reload) a model; a reload keeps serving until the new versions are warm") { model, config, files };
        connection.AddTo(command);
        command.SetAction((parse, token) => connection.RunAsync(parse, async client =>
        {
            var name = parse.GetValue(model)!;
            var uploads = await ReadUploadsAsync(parse.GetValue(files) ?? [], token);
            if (parse.GetValue(config) is not { } file)
            {
                if (uploads.Count > 0)
                {
                    throw new FormatException("--file needs --config: a model sent with the load brings its configuration");
                }

                await client.LoadModelAsync(name, token);
            }
            else if (client is TurbineHttpClient http)
            {
                await http.LoadModelAsync(name, await File.ReadAllTextAsync(file.FullName, token), uploads, token);
            }
            else
            {
                throw new FormatException("--config travels over REST; drop --protocol grpc");
            }

            Console.WriteLine($"{name} loaded");
        }));
        return command;
    }

    /// <summary>Reads each <c>path=local file</c> of --file.</summary>
    private static async Task<Dictionary<string, byte[]>> ReadUploadsAsync(string[] specs, CancellationToken token)
    {
        var uploads = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var equals = spec.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == spec.Length - 1)
            {
                throw new FormatException($"--file '{spec}' must read '<path in the model folder>=<local file>'");
            }

            uploads[spec[..equals]] = await File.ReadAllBytesAsync(spec[(equals + 1)..], token);
        }

        return uploads;
    }

    private static Command Config()
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "Model name" };
        var version = new Option<string?>("--model-version") { Description = "Model version" };
        var command = new Command("config", "Print a model's configuration") { model, version };
        connection.AddTo(command);
        command.SetAction((parse, token) => connection.RunAsync(parse, async client =>
        {
            Console.WriteLine(RestControlPlane.Pretty(await client.GetModelConfigJsonAsync(parse.GetValue(model)!, parse.GetValue(version), token)));
        }));
        return command;
    }

    private static Command Stats()
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string?>("model") { Description = "Model name (default: all)", Arity = ArgumentArity.ZeroOrOne };
        var version = new Option<string?>("--model-version") { Description = "Model version" };
        var command = new Command("stats", "Print inference statistics") { model, version };
        connection.AddTo(command);
        command.SetAction((parse, token) => connection.RunAsync(parse, async client =>
        {
            var stats = await client.GetModelStatisticsAsync(parse.GetValue(model), parse.GetValue(version), token);
            Console.WriteLine($"{"MODEL",-24} {"VERSION",-8} {"SUCCESS",9} {"FAIL",6} {"EXECS",9} {"AVG ms",8} {"QUEUE ms",9} {"INFER ms",9}");
            foreach (var s in stats)
            {
                var count = Math.Max(1, s.SuccessCount);
                var execs = Math.Max(1, s.ExecutionCount);
                Console.WriteLine($"{s.Name,-24} {s.Version,-8} {s.SuccessCount,9} {s.FailCount,6} {s.ExecutionCount,9} {s.SuccessNanoseconds / 1e6 / count,8:F3} {s.QueueNanoseconds / 1e6 / count,9:F3} {s.ComputeInferNanoseconds / 1e6 / execs,9:F3}");
            }
        }));
        return command;
    }

    /// <summary>A routing command: <c>turbine models NAME MODEL [ARGS]</c>, printing the model's serving view afterwards.</summary>
    private static Command Routing(string name, string description, string? arguments, Func<TurbineHttpClient, string, string[], CancellationToken, Task<ServingView>> action)
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "Model name" };
        var command = new Command(name, description) { model };
        var extra = (arguments?.Split(' ') ?? []).Select(a => new Argument<string>(a)).ToList();
        extra.ForEach(command.Arguments.Add);
        connection.AddTo(command);
        command.SetAction((parse, token) => connection.RunAsync(parse, async client =>
        {
            if (client is not TurbineHttpClient http)
            {
                throw new FormatException($"'models {name}' uses the REST API; drop --protocol grpc");
            }

            var view = await action(http, parse.GetValue(model)!, [.. extra.Select(a => parse.GetValue(a)!)], token);
            PrintServing(view);
        }));
        return command;
    }

    private static void PrintServing(ServingView view)
    {
        Console.WriteLine($"{view.Model}: versions {string.Join(", ", view.Versions)}; default {view.DefaultVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}" +
            (view.Pinned ? " (pinned)" : " (newest)"));
        foreach (var (label, version) in view.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {label,-16} -> {version}");
        }
    }

    private static long? ParseVersion(string text, string clear) =>
        text == clear ? null
        : long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) && version > 0 ? version
        : throw new FormatException($"'{text}' is not a version number (or '{clear}')");
}
