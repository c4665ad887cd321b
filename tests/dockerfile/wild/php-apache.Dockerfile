FROM php:8.3-apache

# the official images' style: remember what was installed by hand, purge the rest after
RUN set -eux; \
    savedAptMark="$(apt-mark showmanual)"; \
    apt-get update; \
    apt-get install -y \
        libzip-dev \
        libpng-dev \
        libicu-dev \
    ; \
    docker-php-ext-configure gd; \
    docker-php-ext-install -j"$(nproc)" gd intl pdo_mysql zip; \
    apt-mark auto '.*' > /dev/null; \
    apt-mark manual $savedAptMark; \
    apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false; \
    rm -rf /var/lib/apt/lists/*

COPY --from=composer:2 /usr/bin/composer /usr/bin/composer

RUN a2enmod rewrite headers

WORKDIR /var/www/html
COPY composer.json composer.lock ./
RUN composer install --no-dev --no-scripts --prefer-dist --no-interaction

COPY . .
RUN chown -R www-data:www-data storage bootstrap/cache
