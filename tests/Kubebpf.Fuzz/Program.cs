using Kubebpf.Fuzz;

// kubebpf-fuzz <target>                       the fuzzed process, started by afl-fuzz (SharpFuzz's fork-server loop)
// kubebpf-fuzz replay <target> <file>...       runs inputs once each: a finding throws, as under the fuzzer
// kubebpf-fuzz run [--duration S] [--targets a,b] [--output DIR]
//                                              instruments a copy of the parsers and fuzzes each target for S seconds
// kubebpf-fuzz seed <dir>                     writes the seed corpora (from the tests' inputs) into <dir>/<target>/
return args switch
{
    [var target] when FuzzTargets.All.TryGetValue(target, out var run) => Fuzz(run),
    ["replay", var target, .. var files] when FuzzTargets.All.TryGetValue(target, out var run) => Replay(run, files),
    ["run", .. var options] => AflRunner.Run(RunOptions.Parse(options)),
    ["seed", var directory] => SeedCorpus.Write(directory),
    _ => Usage(),
};

static int Fuzz(Action<byte[]> target)
{
    SharpFuzz.Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        target(copy.ToArray());
    });
    return 0;
}

static int Replay(Action<byte[]> target, string[] files)
{
    foreach (var file in files)
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: no finding");
    }

    return 0;
}

static int Usage()
{
    Console.Error.WriteLine($"usage: kubebpf-fuzz run [--duration SECONDS] [--targets {string.Join(',', FuzzTargets.All.Keys)}] [--output DIR]");
    Console.Error.WriteLine("       kubebpf-fuzz replay <target> <file>... | kubebpf-fuzz seed <dir> | kubebpf-fuzz <target> (under afl-fuzz)");
    return 2;
}
