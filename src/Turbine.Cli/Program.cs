using System.CommandLine;
using Turbine.Cli.Commands;

var root = new RootCommand("Turbine: serve ONNX models over KServe v2 REST and gRPC.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(InferCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(RoutesCommand.Create());
root.Subcommands.Add(PipelinesCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(ScanCommand.Create());
root.Subcommands.Add(OptimizeCommand.Create());
root.Subcommands.Add(MemoryCommand.Create());
root.Subcommands.Add(RegistryCommand.Create());
root.Subcommands.Add(HealthCommand.Create());
root.Subcommands.Add(DeployCommand.Create());
root.Subcommands.Add(BatchCommand.Create());
return await root.Parse(args).InvokeAsync();
