from torch.distributions import Normal


def reparameterize(mu, logvar):
    return Normal(mu, (0.5 * logvar).exp()).rsample()
