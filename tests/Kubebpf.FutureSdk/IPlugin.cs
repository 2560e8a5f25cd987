namespace Kubebpf.Sdk.Pipeline;

/// <summary>The entry point contract as a future SDK major might declare it.</summary>
public interface IPlugin;
