"""Brazil's 27 UFs: population weights, a few real cities each, and regional labour markets.

Populations are the 2022 census in millions; unemployment baselines are rounded PNAD
figures in percent. Cities are listed capital first and weighted towards it.
"""

from __future__ import annotations

import numpy as np

from regua.contract import UFS

POPULATION: dict[str, float] = {
    "AC": 0.83, "AL": 3.13, "AM": 3.94, "AP": 0.73, "BA": 14.14, "CE": 8.79, "DF": 2.82,
    "ES": 3.83, "GO": 7.06, "MA": 6.78, "MG": 20.54, "MS": 2.76, "MT": 3.66, "PA": 8.12,
    "PB": 3.97, "PE": 9.06, "PI": 3.27, "PR": 11.44, "RJ": 16.05, "RN": 3.30, "RO": 1.58,
    "RR": 0.64, "RS": 10.88, "SC": 7.61, "SE": 2.21, "SP": 44.41, "TO": 1.51,
}  # fmt: skip

UNEMPLOYMENT: dict[str, float] = {
    "AC": 7.6, "AL": 8.9, "AM": 8.4, "AP": 9.0, "BA": 10.4, "CE": 7.3, "DF": 9.0, "ES": 4.6,
    "GO": 5.3, "MA": 7.3, "MG": 5.4, "MS": 3.8, "MT": 3.0, "PA": 7.8, "PB": 8.0, "PE": 10.3,
    "PI": 7.6, "PR": 4.1, "RJ": 8.7, "RN": 8.9, "RO": 3.4, "RR": 6.5, "RS": 5.0, "SC": 2.9,
    "SE": 8.9, "SP": 6.2, "TO": 5.6,
}  # fmt: skip

CITIES: dict[str, tuple[str, ...]] = {
    "AC": ("Rio Branco", "Cruzeiro do Sul", "Sena Madureira"),
    "AL": ("Maceió", "Arapiraca", "Palmeira dos Índios"),
    "AM": ("Manaus", "Parintins", "Itacoatiara"),
    "AP": ("Macapá", "Santana"),
    "BA": ("Salvador", "Feira de Santana", "Vitória da Conquista", "Camaçari", "Ilhéus"),
    "CE": ("Fortaleza", "Caucaia", "Juazeiro do Norte", "Sobral"),
    "DF": ("Brasília", "Taguatinga", "Ceilândia"),
    "ES": ("Vitória", "Vila Velha", "Serra", "Cariacica"),
    "GO": ("Goiânia", "Aparecida de Goiânia", "Anápolis", "Rio Verde"),
    "MA": ("São Luís", "Imperatriz", "Caxias"),
    "MG": ("Belo Horizonte", "Uberlândia", "Contagem", "Juiz de Fora", "Montes Claros"),
    "MS": ("Campo Grande", "Dourados", "Três Lagoas"),
    "MT": ("Cuiabá", "Várzea Grande", "Rondonópolis", "Sinop"),
    "PA": ("Belém", "Ananindeua", "Santarém", "Marabá"),
    "PB": ("João Pessoa", "Campina Grande", "Patos"),
    "PE": ("Recife", "Jaboatão dos Guararapes", "Olinda", "Caruaru", "Petrolina"),
    "PI": ("Teresina", "Parnaíba", "Picos"),
    "PR": ("Curitiba", "Londrina", "Maringá", "Ponta Grossa", "Cascavel"),
    "RJ": ("Rio de Janeiro", "São Gonçalo", "Duque de Caxias", "Niterói", "Nova Iguaçu"),
    "RN": ("Natal", "Mossoró", "Parnamirim"),
    "RO": ("Porto Velho", "Ji-Paraná", "Ariquemes"),
    "RR": ("Boa Vista", "Rorainópolis"),
    "RS": ("Porto Alegre", "Caxias do Sul", "Pelotas", "Canoas", "Santa Maria"),
    "SC": ("Florianópolis", "Joinville", "Blumenau", "São José", "Chapecó"),
    "SE": ("Aracaju", "Nossa Senhora do Socorro", "Lagarto"),
    "SP": (
        "São Paulo", "Guarulhos", "Campinas", "São Bernardo do Campo", "Santo André",
        "Ribeirão Preto", "Sorocaba", "São José dos Campos",
    ),
    "TO": ("Palmas", "Araguaína", "Gurupi"),
}  # fmt: skip

UF_WEIGHTS = np.array([POPULATION[uf] for uf in UFS]) / sum(POPULATION.values())
UF_UNEMPLOYMENT = np.array([UNEMPLOYMENT[uf] for uf in UFS])
NATIONAL_UNEMPLOYMENT = float(UF_WEIGHTS @ UF_UNEMPLOYMENT)

CITY_NAMES: tuple[str, ...] = tuple(city for uf in UFS for city in CITIES[uf])
"""Every city, UF by UF in contract order; a customer's city is an index into this."""
_CITY_OFFSETS = np.cumsum([0] + [len(CITIES[uf]) for uf in UFS])[:-1]
_MAX_CITIES = max(len(c) for c in CITIES.values())
_CITY_CUMULATIVE = np.ones((len(UFS), _MAX_CITIES))
for _row, _uf in enumerate(UFS):
    _weights = 1.0 / (np.arange(len(CITIES[_uf])) + 1.0) ** 0.9
    _weights[0] *= 2.0  # the capital
    _CITY_CUMULATIVE[_row, : len(_weights)] = np.cumsum(_weights) / _weights.sum()


def draw_cities(uf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into CITY_NAMES of a city in each customer's UF, weighted towards the capital."""
    u = rng.random(len(uf))
    within = (u[:, None] > _CITY_CUMULATIVE[uf]).sum(axis=1)
    return _CITY_OFFSETS[uf] + within
