def reparameterize(mu, logvar):
    # café ÿþ
    return mu
