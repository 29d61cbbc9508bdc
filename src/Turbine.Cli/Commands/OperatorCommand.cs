using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Reconciliation;
using Turbine.Kubernetes.Resources;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine operator</c>: <c>run</c> keeps every <c>TurbineModel</c> reconciled into its objects; <c>crd</c> prints
/// the custom resource's definition; <c>render</c> prints the objects a <c>TurbineModel</c> file becomes, for review
/// or GitOps, without a cluster (docs/KUBERNETES.md, "The operator").
/// </summary>
internal static class OperatorCommand
{
    private const int MaxManifestBytes = 1 << 20;

    public static Command Create()
    {
        var command = new Command("operator", "The Kubernetes operator for TurbineModel resources");
        command.Subcommands.Add(Run());
        command.Subcommands.Add(Crd());
        command.Subcommands.Add(Render());
        return command;
    }

    private static Command Run()
    {
        var ns = new Option<string?>("--namespace") { Description = "Watch one namespace (default: every one)" };
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "A kubeconfig file (default: the pod's service account in a cluster, else ~/.kube/config)" };
        var resync = new Option<int>("--resync") { Description = "Seconds between reconciles of every model without events", DefaultValueFactory = _ => 60 };
        var command = new Command("run", "Reconcile TurbineModels into Deployments, Services, autoscalers and routes until stopped") { ns, kubeconfig, resync };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
            using var api = new KubernetesClusterApi(KubernetesClusterApi.Configuration(parse.GetValue(kubeconfig)?.FullName));
            var options = new OperatorOptions(parse.GetValue(ns), TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(resync))));
            var reconciler = new ModelReconciler(api, TimeProvider.System, logging.CreateLogger<ModelReconciler>());
            var loop = new ModelOperator(api, reconciler, options, TimeProvider.System, logging.CreateLogger<ModelOperator>());
            Console.Error.WriteLine($"turbine operator: watching TurbineModels in {options.Namespace ?? "every namespace"}");
            await loop.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    private static Command Crd()
    {
        var command = new Command("crd", "Print the TurbineModel CustomResourceDefinition (kubectl apply -f -)");
        command.SetAction(_ => Console.Out.Write(CustomResourceDefinition.Yaml()));
        return command;
    }

    private static Command Render()
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "A TurbineModel manifest (YAML)", Required = true };
        var command = new Command("render", "Print the objects a TurbineModel becomes (what the operator would apply)") { file };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            TurbineModel model;
            try
            {
                if (path.Exists && path.Length > MaxManifestBytes)
                {
                    throw new FormatException($"a manifest is {MaxManifestBytes} bytes at most");
                }

                var item = ManifestYaml.Read(File.ReadAllText(path.FullName)).SingleOrDefault(i => ResourceKind.Find((string?)i["apiVersion"], (string?)i["kind"]) == ResourceKind.TurbineModel)
                    ?? throw new FormatException($"no {ResourceKind.TurbineModel} in the file");
                KubeObject.Metadata(item)["namespace"] ??= "default";
                model = TurbineModel.From(item) with { Uid = "00000000-0000-0000-0000-000000000000" };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or JsonException or YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {path.Name}: {e.Message}");
                return 1;
            }

            var errors = TurbineModelValidator.Validate(model);
            foreach (var error in errors)
            {
                Console.Error.WriteLine($"error: {error}");
            }

            if (errors.Count > 0)
            {
                return 1;
            }

            Console.Out.Write(ManifestYaml.Write(DesiredObjects.For(model).Select(o => o.Item)));
            return 0;
        });
        return command;
    }
}
