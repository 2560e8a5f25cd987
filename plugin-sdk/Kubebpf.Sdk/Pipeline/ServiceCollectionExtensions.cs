using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Sdk.Pipeline;

/// <summary>Registration helpers for plugin components.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="TSubscriber"/> as a singleton receiving <typeparamref name="TEvent"/> batches from every plugin.</summary>
    public static IServiceCollection AddEventSubscriber<TEvent, TSubscriber>(this IServiceCollection services)
        where TSubscriber : class, IEventSubscriber<TEvent>
    {
        services.AddSingleton<TSubscriber>();
        services.AddSingleton(new EventSubscription(typeof(TEvent), typeof(TSubscriber)));
        return services;
    }

    /// <summary>Registers <typeparamref name="TComponent"/> once as a singleton, also resolvable as <see cref="IFlushable"/> when it is one.</summary>
    public static IServiceCollection AddFlushable<TComponent>(this IServiceCollection services)
        where TComponent : class, IFlushable
    {
        services.AddSingleton<IFlushable>(sp => sp.GetRequiredService<TComponent>());
        return services;
    }
}
